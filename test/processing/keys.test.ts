import { describe, expect, it } from 'vitest';
import { idFromOriginalKey, isValidId, newId } from '../../src/processing/keys.js';

describe('ids and keys', () => {
  it('makes time-ordered, unguessable UUIDv7 ids that pass the id pattern', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newId(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isValidId(id)).toBe(true);
    }
  });

  it.each(['..', '.hidden', 'a/b', 'a\\b', '', 'x'.repeat(129), 'sp ace', 'new\nline'])('refuses %j as an API id', (id) => {
    expect(isValidId(id)).toBe(false);
  });

  it('takes any one-segment name under originals/ as an id to process', () => {
    expect(idFromOriginalKey('originals/My Photo.jpg')).toBe('My Photo.jpg');
    expect(idFromOriginalKey('originals/0193c1c4-7d2a-7c55-9a51-2f4c3b1e8d90')).toBe('0193c1c4-7d2a-7c55-9a51-2f4c3b1e8d90');
    for (const key of ['originals/', 'originals/..', 'originals/a/b.jpg', 'other/x.jpg', 'originals/bad\u0001name']) {
      expect(idFromOriginalKey(key)).toBeUndefined();
    }
  });
});
