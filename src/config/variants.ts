import * as z from 'zod';
import { OUTPUT_FORMATS, type OutputFormat } from '../formats/formats.js';

export const FITS = ['cover', 'inside', 'attention', 'entropy'] as const;
export type Fit = (typeof FITS)[number];

/**
 * Fits that crop to fill the box: `cover` keeps the centre, `attention` the most salient region
 * (skin, saturation, detail) and `entropy` the busiest one. `inside` fits within the box, uncropped.
 */
export const isCrop = (fit: Fit) => fit !== 'inside';

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The longest side a variant or a render may have (libvips' WebP and AVIF encoders go no further). */
export const MAX_SIDE = 16384;

/**
 * One preset, as VARIANTS_FILE gives it (a positional VARIANTS entry is the same with only name,
 * size, fit and format). Published as JSON Schema in docs/variants.schema.json.
 */
export const VariantSchema = z
  .object({
    name: z.string().regex(NAME, { error: 'the name must be 1-32 of a-z, 0-9, _ or -, starting with a letter or digit' }),
    width: z.number().int().min(1).max(MAX_SIDE),
    height: z.number().int().min(1).max(MAX_SIDE),
    fit: z.enum(FITS).default('inside').describe('cover and the smart crops fill the box; inside fits within it'),
    formats: z.array(z.enum(OUTPUT_FORMATS)).min(1).optional().describe('this variant in each of these formats; otherwise OUTPUT_FORMAT(S)'),
    quality: z.number().int().min(1).max(100).optional().describe('otherwise QUALITY'),
    watermark: z.boolean().optional().describe('false: never marked; otherwise as the upload and the server say'),
    background: z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'expected a colour like #ffffff' }).optional().describe('what transparency is flattened onto for formats without alpha (default white)'),
    sharpen: z.boolean().optional().describe('sharpen after resizing'),
    blur: z.number().min(0.3).max(100).optional().describe('Gaussian blur sigma, after resizing'),
    withoutEnlargement: z.boolean().optional().describe('default true: never larger than the original'),
  })
  .strict();

export const VariantsFileSchema = z
  .object({ variants: z.array(VariantSchema).min(1) })
  .strict()
  .refine((file) => new Set(file.variants.map((v) => v.name)).size === file.variants.length, { error: 'every variant needs a name of its own' });

export type VariantSpec = z.output<typeof VariantSchema>;

/** Reads a presets file's text (JSON, VariantsFileSchema); throws with what is wrong, and where. */
export function parseVariantsFile(text: string): VariantSpec[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  const parsed = VariantsFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`).join('; '));
  return parsed.data.variants;
}

export const VARIANT_FORM = 'name:WxH:fit[:format], comma-separated, fit one of cover, inside, attention, entropy (e.g. thumbnail:150x150:cover)';
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
    return { name, width, height, fit: fit as Fit, ...(format ? { formats: [format as OutputFormat] } : {}) };
  });
}

/** VARIANTS_FILE as JSON Schema, for editors and other tools (docs/variants.schema.json). */
export const variantsJsonSchema = () => ({
  title: 'VARIANTS_FILE: the variant presets of the image processor',
  ...z.toJSONSchema(VariantsFileSchema, { io: 'input' }),
});
