export function copyAssetTree(from: string, to: string): Promise<void>;
