/**
 * Where the server keeps its data, chosen from the environment: the file
 * store on a machine, Deno KV on Deno Deploy (detected by
 * `DENO_DEPLOYMENT_ID`, or by a file system that cannot be written), with
 * the live fan-out between isolates on whenever the store is KV.
 *
 * | variable             | meaning                                                    |
 * | -------------------- | ---------------------------------------------------------- |
 * | `STREAMO_STORAGE`    | `kv`, `file` or `memory` (default: detected)               |
 * | `STREAMO_KV_PATH`    | the KV file (default: Deno's KV — Deploy's managed one)    |
 * | `STREAMO_BROADCAST`  | fan-out channel name, or `off` (default `streamo` with KV) |
 *
 * @module
 */

import type { StorageDriver } from "../lib/storage/types.ts";
import { openFileStorage } from "../lib/storage/file_storage.deno.ts";
import { openKvStorage } from "../lib/storage/kv_storage.deno.ts";

/** A storage kind `STREAMO_STORAGE` names. */
export type StorageKind = "kv" | "file" | "memory";

/** Default `BroadcastChannel` name of the fan-out between isolates. */
export const DEFAULT_BROADCAST_CHANNEL = "streamo";

/** What {@linkcode resolveDeployment} chose, and why. */
export interface DeploymentSettings {
  /** Whether this runs on Deno Deploy (or somewhere without a writable file system). */
  onDeploy: boolean;
  /** The storage kind. */
  storage: StorageKind;
  /** The file store's directory (`file`). */
  dataDir: string;
  /** The KV file (`kv`); `undefined` opens Deno's default KV. */
  kvPath: string | undefined;
  /** The fan-out channel name, or `undefined` for none. */
  broadcast: string | undefined;
  /** One line for the log: what was chosen and why. */
  description: string;
}

/** Whether `dir` can be created and written (false on Deno Deploy). */
export async function canWrite(dir: string): Promise<boolean> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = `${dir}/.write-probe-${crypto.randomUUID()}`;
    await Deno.writeFile(probe, new Uint8Array(0));
    await Deno.remove(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Chooses the storage from `env` (see the module documentation). Throws an
 * `Error` naming the variable that is wrong.
 */
export async function resolveDeployment(
  env: { get(name: string): string | undefined },
  dataDir: string | null | undefined,
  writable: (dir: string) => Promise<boolean> = canWrite,
): Promise<DeploymentSettings> {
  const dir = dataDir ?? ".streamo";
  const deploymentId = env.get("DENO_DEPLOYMENT_ID");
  const explicit = env.get("STREAMO_STORAGE")?.trim().toLowerCase();
  if (explicit && !["kv", "file", "memory"].includes(explicit)) {
    throw new Error(
      `Cannot start: STREAMO_STORAGE must be kv, file or memory, got ${
        JSON.stringify(explicit)
      }`,
    );
  }
  let onDeploy = Boolean(deploymentId);
  let storage: StorageKind;
  let why: string;
  if (explicit) {
    storage = explicit as StorageKind;
    why = "STREAMO_STORAGE";
  } else if (dataDir === null) {
    storage = "memory";
    why = "no data directory";
  } else if (onDeploy) {
    storage = "kv";
    why = `Deno Deploy (deployment ${deploymentId})`;
  } else if (!(await writable(dir))) {
    onDeploy = true;
    storage = "kv";
    why = `${dir} is not writable`;
  } else {
    storage = "file";
    why = "default";
  }
  const kvPath = env.get("STREAMO_KV_PATH") || undefined;
  const channel = env.get("STREAMO_BROADCAST")?.trim();
  let broadcast: string | undefined;
  if (channel === "off" || channel === "") broadcast = undefined;
  else if (channel) broadcast = channel;
  else if (storage === "kv") broadcast = DEFAULT_BROADCAST_CHANNEL;
  if (broadcast && storage !== "kv") {
    throw new Error(
      `Cannot start: STREAMO_BROADCAST=${broadcast} fans out between isolates that share one store, which needs STREAMO_STORAGE=kv (the storage is ${storage})`,
    );
  }
  const where = storage === "kv"
    ? `Deno KV ${kvPath ?? "(Deno's default KV)"}`
    : storage === "file"
    ? `file store ${dir}`
    : "memory (nothing persists)";
  return {
    onDeploy,
    storage,
    dataDir: dir,
    kvPath,
    broadcast,
    description: `${where}, chosen by ${why}${
      broadcast ? `; live fan-out on BroadcastChannel "${broadcast}"` : ""
    }`,
  };
}

/** Opens the storage `settings` name (`undefined` for memory). */
export async function openDeploymentStorage(
  settings: DeploymentSettings,
): Promise<StorageDriver | undefined> {
  switch (settings.storage) {
    case "kv":
      return await openKvStorage(settings.kvPath);
    case "file":
      return await openFileStorage(settings.dataDir);
    case "memory":
      return undefined;
  }
}
