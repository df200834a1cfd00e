import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eveTimestamp } from './time.js';

test('eveTimestamp formats microseconds in UTC with a colon-less offset', () => {
  // 2026-11-26T10:30:18.312528Z
  const us = Date.UTC(2026, 10, 26, 10, 30, 18) * 1000 + 312528;
  assert.equal(eveTimestamp(us), '2026-11-26T10:30:18.312528+0000');
  assert.equal(eveTimestamp(0), '1970-01-01T00:00:00.000000+0000');
  assert.match(eveTimestamp(us), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+[+-]\d+$/);
});
