import { OUTPUT_FORMATS, type OutputFormat } from '../imaging/formats.js';

export const FITS = ['cover', 'inside', 'attention', 'entropy'] as const;
export type Fit = (typeof FITS)[number];

/**
 * Fits that crop to fill the box: `cover` keeps the centre, `attention` the most salient region
 * (skin, saturation, detail) and `entropy` the busiest one. `inside` fits within the box, uncropped.
 */
export const isCrop = (fit: Fit) => fit !== 'inside';

export interface VariantSpec {
  name: string;
  width: number;
  height: number;
  fit: Fit;
  /** Pins this variant's format; otherwise OUTPUT_FORMAT decides. */
  format?: OutputFormat;
}

export const VARIANT_FORM = 'name:WxH:fit[:format], comma-separated, fit one of cover, inside, attention, entropy (e.g. thumbnail:150x150:cover)';
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_SIDE = 16384;

/** Parses `name:WxH:fit[:format],...`; throws with the offending entry named. */
export function parseVariants(text: string): VariantSpec[] {
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error('at least one variant is required');
  const seen = new Set<string>();
  return entries.map((entry) => {
    const [name = '', size = '', fit = '', format, ...rest] = entry.split(':');
    const dims = /^(\d{1,5})x(\d{1,5})$/.exec(size);
    const fail = (why: string) => new Error(`"${entry}": ${why}`);
    if (rest.length > 0 || !dims) throw fail('not a variant');
    if (!NAME.test(name)) throw fail('the name must be 1-32 of a-z, 0-9, _ or -, starting with a letter or digit');
    if (seen.has(name)) throw fail(`the name "${name}" is used twice`);
    seen.add(name);
    const width = Number(dims[1]);
    const height = Number(dims[2]);
    if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) {
      throw fail(`width and height must be 1 to ${MAX_SIDE}`);
    }
    if (!(FITS as readonly string[]).includes(fit)) throw fail(`fit must be one of ${FITS.join(', ')}`);
    if (format !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      throw fail(`format must be one of ${OUTPUT_FORMATS.join(', ')}`);
    }
    return { name, width, height, fit: fit as Fit, ...(format ? { format: format as OutputFormat } : {}) };
  });
}
