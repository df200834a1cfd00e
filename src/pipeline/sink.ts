/**
 * Where finished flows go. A sink runs where flows end — inside each worker thread, or in the
 * reading thread with one worker — so per-flow work (formatting EVE, aggregating) is spread over
 * the workers and only its compact output crosses threads. A sink module exports
 * `createSink(options)`; options and outputs must be structured-cloneable.
 */
import type { AppRecord } from '../applayer/app-layer.js';
import type { FlowRecord } from '../flow/table.js';
import type { AlertRecord } from '../detect/engine/detector.js';

export interface FlowSink {
  flow(rec: FlowRecord): void;
  /** An application-layer record (an HTTP transaction, ...). */
  app(rec: AppRecord): void;
  /** A signature alert. */
  alert(rec: AlertRecord): void;
  /** Output accumulated since the last call, handed to the reading thread after each batch; null when none. */
  drain(): unknown;
  /** Final output, after the last flow. */
  finish(): unknown;
}

/** The export a sink module provides. */
export type CreateSink = (options: unknown) => FlowSink;

/** A sink by module URL (href) and options. */
export interface SinkSpec {
  module: string;
  options: unknown;
}

/** Load a sink module and create its sink. */
export async function loadSink(spec: SinkSpec): Promise<FlowSink> {
  const mod = (await import(spec.module)) as { createSink?: CreateSink };
  if (typeof mod.createSink !== 'function') throw new Error(`sink module ${spec.module} has no createSink export`);
  return mod.createSink(spec.options);
}
