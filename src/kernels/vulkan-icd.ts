// Vulkan drivers (ICDs) installed on this machine, found by their JSON manifests.
//
// Dawn's Vulkan backend sees the drivers the Vulkan loader picks when the process
// starts: those whose manifests lie in the loader's search directories, unless
// VK_ICD_FILENAMES (or its newer name VK_DRIVER_FILES) names manifests to use
// instead. Google's SwiftShader, as Debian's `chromium` package ships it, lies
// outside those directories, so only a process started with
// VK_ICD_FILENAMES=<its manifest> uses it (scripts/setup-swiftshader.sh).
// Deliberately free of `webgpu`: vitest.config.ts reads it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where SwiftShader's manifest is: the one chromium ships, else the one scripts/setup-swiftshader.sh writes. */
export const SWIFTSHADER_MANIFESTS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/local/share/ser-webgpu/vk_swiftshader_icd.json'];

/** The environment variable that chooses a process's Vulkan drivers (VK_DRIVER_FILES is its newer name). */
export const ICD_ENV = 'VK_ICD_FILENAMES';

export interface IcdManifest {
  path: string;
  /** `library_path` of the manifest: the driver's shared library. */
  library: string;
  /** Whether the loader finds it without VK_ICD_FILENAMES. */
  onSearchPath: boolean;
}

export function swiftshaderManifest(): string | null {
  return SWIFTSHADER_MANIFESTS.find((p) => existsSync(p)) ?? null;
}

/** The loader's search directories on Linux, in its order (XDG config, /etc, XDG data). */
function searchDirs(): string[] {
  const env = process.env;
  const configDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':');
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  const dataDirs = (env.XDG_DATA_DIRS || '/usr/local/share:/usr/share').split(':');
  return [...configDirs, '/etc', dataHome, ...dataDirs].filter(Boolean).map((d) => join(d, 'vulkan', 'icd.d'));
}

/** Manifests listed in VK_DRIVER_FILES or VK_ICD_FILENAMES (the loader prefers the former), or [] when neither is set. */
export function icdOverride(): string[] {
  const v = process.env.VK_DRIVER_FILES || process.env[ICD_ENV];
  return v ? v.split(':').filter(Boolean) : [];
}

/** Every manifest on the loader's search path, then SwiftShader's and any VK_ICD_FILENAMES names; each path once. */
export function vulkanIcds(): IcdManifest[] {
  const found = new Map<string, IcdManifest>();
  const add = (path: string, onSearchPath: boolean): void => {
    if (found.has(path)) return;
    let library = '';
    try {
      library = String((JSON.parse(readFileSync(path, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? '');
    } catch {
      return; // unreadable or not a manifest: the loader skips it too
    }
    found.set(path, { path, library, onSearchPath });
  };
  for (const dir of searchDirs()) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
    } catch {
      continue;
    }
    for (const n of names) add(join(dir, n), true);
  }
  for (const p of [...SWIFTSHADER_MANIFESTS, ...icdOverride()]) if (existsSync(p)) add(p, false);
  return [...found.values()];
}
