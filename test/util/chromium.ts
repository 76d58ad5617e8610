// Debian's Chromium, headless, driven by puppeteer-core (which downloads no
// browser), with WebGPU. Chromium offers WebGPU on Linux only with
// --enable-unsafe-webgpu; on a machine without a GPU its adapter is the SwiftShader
// it ships (its blocklist refuses other CPU adapters such as lavapipe,
// crbug.com/40057808). Measured with Chromium 156 on Debian bookworm.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM = process.env.SER_CHROMIUM ?? '/usr/bin/chromium';

export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--no-sandbox'];
/** Nothing reaches for the network (the machine may have none) or asks questions. */
const QUIET_FLAGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--no-default-browser-check'];

export interface Chromium {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * A fresh headless Chromium with its own profile. With `fakeAudio`, its microphone
 * is Chromium's fake capture device playing that WAV in a loop; a page may use it
 * once granted (CDP Browser.setPermission), as a person would grant it.
 */
export async function launchChromium(o: { fakeAudio?: string } = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (bash scripts/setup-swiftshader.sh does) or set SER_CHROMIUM to a Chromium binary`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'ser-chromium-'));
  const audio = o.fakeAudio ? ['--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${o.fakeAudio}`] : [];
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...WEBGPU_FLAGS, ...QUIET_FLAGS, `--user-data-dir=${profile}`, ...audio],
    protocolTimeout: 180_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
