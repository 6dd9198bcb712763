import type { VariantSpec } from '../../src/config/variants.js';
import { renderVariants, type RenderedVariant, type RenderSettings } from '../../src/imaging/pipeline/render.js';
import type { ImageInfo } from '../../src/imaging/probe.js';

/** One variant through the render pipeline production takes, in its first (or only) format. */
export async function renderOne(source: Buffer, info: ImageInfo, spec: VariantSpec, settings: RenderSettings): Promise<RenderedVariant> {
  return (await renderVariants(source, info, [spec], settings))[0]!;
}
