import { describe, expect, it } from 'vitest';
import { pictureSnippet } from '../../src/web/picture.js';

const variant = (format: 'jpeg' | 'webp' | 'avif', url: string) => ({ name: 'large', format, width: 1600, height: 1067, bytes: 1000, url });

describe('the page’s <picture> snippet', () => {
  const group = [variant('jpeg', 'https://x/large.jpg?sig=1&a=2'), variant('avif', 'https://x/large.avif'), variant('webp', 'https://x/large.webp')];

  it('lists the negotiated formats as sources, most preferred first, and the one every browser takes as the img', () => {
    expect(pictureSnippet(group, 'A "cat"')).toBe(
      [
        '<picture>',
        '  <source type="image/avif" srcset="https://x/large.avif">',
        '  <source type="image/webp" srcset="https://x/large.webp">',
        '  <img src="https://x/large.jpg?sig=1&amp;a=2" width="1600" height="1067" alt="A &quot;cat&quot;">',
        '</picture>',
      ].join('\n'),
    );
  });

  it('gives the img a srcset of on-demand sizes when the server made links for them', () => {
    const snippet = pictureSnippet(group, 'cat', [
      { width: 800, url: 'https://x/r/w800' },
      { width: 1600, url: 'https://x/r/w1600' },
    ]);
    expect(snippet).toContain('srcset="https://x/r/w800 800w, https://x/r/w1600 1600w" sizes="(max-width: 1600px) 100vw, 1600px"');
  });
});
