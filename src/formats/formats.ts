/**
 * The format registry: every format this service reads or writes, and everything the rest of the
 * code needs to know about it. Config enums, content types, download names, content negotiation,
 * the page's `<picture>` order and the encoder's options all come from here, so a new output format
 * is a row below (and, if sharp needs it, a sniffing rule in sniff.ts). Plain data: the web page
 * imports it too.
 */
interface Format {
  /** How messages name it. */
  label: string;
  mime: string;
  /** Other content types clients send for it. */
  otherMimes?: readonly string[];
  /** The usual file extension, for keys and download names. */
  extension: string;
  /** Who decodes it: libvips inside sharp, or one of our decoders in a worker thread (see foreign.ts). */
  decoder: 'libvips' | 'libheif' | 'strict-bmp';
  /**
   * How much damage libvips may tolerate. A cut-short JPEG still shows most of its picture; a TIFF
   * tile libvips cannot read is only a "warning" there, and would be left as zeros.
   */
  failOn: 'truncated' | 'warning';
  /** Holds more than one frame that plays as an animation. */
  animation: boolean;
  /** Taken only when the server allows it (the setting's name). */
  optIn?: 'ALLOW_SVG';
  /** Present for formats variants can be written in. */
  output?: {
    /** Order of preference when a client accepts several (and of the page's `<picture>` sources): lower first. */
    preference: number;
    /** Sent only to clients whose `Accept` names it; the others go to every client. */
    negotiated: boolean;
    alpha: boolean;
    /** sharp's encoder options for a quality (1-100) and, for animations, the frame timing. */
    options: (quality: number) => Record<string, unknown>;
  };
}

export const FORMATS = {
  jpeg: {
    label: 'JPEG', mime: 'image/jpeg', extension: 'jpg', decoder: 'libvips', failOn: 'truncated', animation: false,
    output: { preference: 2, negotiated: false, alpha: false, options: (quality) => ({ quality }) },
  },
  png: {
    label: 'PNG', mime: 'image/png', extension: 'png', decoder: 'libvips', failOn: 'truncated', animation: false,
    // No quality: for PNG it would turn on palette quantisation.
    output: { preference: 3, negotiated: false, alpha: true, options: () => ({ compressionLevel: 6 }) },
  },
  gif: {
    label: 'GIF', mime: 'image/gif', extension: 'gif', decoder: 'libvips', failOn: 'truncated', animation: true,
    output: { preference: 4, negotiated: false, alpha: true, options: () => ({}) },
  },
  webp: {
    label: 'WebP', mime: 'image/webp', extension: 'webp', decoder: 'libvips', failOn: 'truncated', animation: true,
    output: { preference: 1, negotiated: true, alpha: true, options: (quality) => ({ quality }) },
  },
  avif: {
    label: 'AVIF', mime: 'image/avif', extension: 'avif', decoder: 'libvips', failOn: 'truncated', animation: false,
    output: { preference: 0, negotiated: true, alpha: true, options: (quality) => ({ quality }) },
  },
  heif: { label: 'HEIC', mime: 'image/heif', otherMimes: ['image/heic'], extension: 'heic', decoder: 'libheif', failOn: 'truncated', animation: false },
  tiff: { label: 'TIFF', mime: 'image/tiff', extension: 'tif', decoder: 'libvips', failOn: 'warning', animation: false },
  svg: { label: 'SVG', mime: 'image/svg+xml', extension: 'svg', decoder: 'libvips', failOn: 'truncated', animation: false, optIn: 'ALLOW_SVG' },
  bmp: { label: 'BMP', mime: 'image/bmp', extension: 'bmp', decoder: 'strict-bmp', failOn: 'truncated', animation: false },
} as const satisfies Record<string, Format>;

/** Formats we recognise by their bytes, named as sharp names them. */
export type InputFormat = keyof typeof FORMATS;

/** Formats variants can be written in. */
export type OutputFormat = { [F in InputFormat]: (typeof FORMATS)[F] extends { output: object } ? F : never }[InputFormat];

const isOutput = (format: InputFormat): format is OutputFormat => 'output' in FORMATS[format];

export const outputOf = (format: OutputFormat): Format['output'] & object => FORMATS[format].output;

export const INPUT_FORMATS = Object.keys(FORMATS) as [InputFormat, ...InputFormat[]];

/** Every output format, most preferred first. */
export const OUTPUT_FORMATS = INPUT_FORMATS.filter(isOutput).sort((a, b) => outputOf(a).preference - outputOf(b).preference) as [OutputFormat, ...OutputFormat[]];

/** What OUTPUT_FORMAT=auto picks: a format that keeps an animation, one that keeps alpha, or the plainest. */
export const AUTO_OUTPUT = { animated: 'webp', alpha: 'png', opaque: 'jpeg' } as const satisfies Record<string, OutputFormat>;

/** The formats this server takes: every one, those behind a setting only when it is on. */
const acceptedFormats = (allowed: { allowSvg: boolean }) =>
  INPUT_FORMATS.filter((format) => {
    const optIn = (FORMATS[format] as Format).optIn;
    return optIn === undefined || (optIn === 'ALLOW_SVG' && allowed.allowSvg);
  });

/** The content types `POST /v1/uploads` takes. */
export const uploadTypes = (allowed: { allowSvg: boolean }) =>
  acceptedFormats(allowed).flatMap((format) => [FORMATS[format].mime, ...((FORMATS[format] as Format).otherMimes ?? [])]);

/** The order people know the formats in: the common ones first. */
const FAMILIARITY: InputFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif', 'heif', 'tiff', 'bmp', 'svg'];

/** The accepted formats as a person reads them, named once: "JPEG, PNG, WebP, AVIF, GIF, HEIC, TIFF, BMP". */
export const acceptedNames = (allowed: { allowSvg: boolean }) => {
  const accepted = new Set(acceptedFormats(allowed));
  return FAMILIARITY.filter((format) => accepted.has(format)).map((format) => FORMATS[format].label).join(', ');
};
