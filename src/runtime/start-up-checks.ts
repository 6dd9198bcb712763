import { ConfigError, type Config } from '../config/config.js';
import { checkLogo } from '../imaging/logo.js';

/**
 * What every entry point checks before it takes work, beyond what reading the configuration
 * checked: the logo decodes to a picture with alpha. A failure is a ConfigError naming the setting.
 */
export async function checkStartUp(config: Config): Promise<void> {
  await checkLogo(config.watermark.image).catch((error: Error) => {
    throw new ConfigError(`WATERMARK_IMAGE ${error.message}.`);
  });
}
