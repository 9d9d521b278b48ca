/**
 * "Remember this device" in browsers: the derived private key kept in
 * IndexedDB (database `streamo-identity`), so a reload signs in without the
 * password. "Sign out" deletes it.
 *
 * @module
 */

import {
  type ChatIdentity,
  type IdentityStore,
  parseStoredIdentity,
} from "./identity.ts";

const STORE = "identity";
const RECORD = "current";

function request<T>(req: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () =>
      reject(
        new Error(`Cannot ${what} the remembered identity: ${req.error}`, {
          cause: req.error,
        }),
      );
  });
}

/** An {@linkcode IdentityStore} in an IndexedDB database. */
export class IdbIdentityStore implements IdentityStore {
  readonly #name: string;
  #db: Promise<IDBDatabase> | undefined;

  /** Uses database `name` (default `streamo-identity`). */
  constructor(name = "streamo-identity") {
    this.#name = name;
  }

  #open(): Promise<IDBDatabase> {
    this.#db ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(this.#name, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () =>
        reject(
          new Error(
            `Cannot open IndexedDB "${this.#name}" to remember the identity: ${req.error}`,
            { cause: req.error },
          ),
        );
    });
    return this.#db;
  }

  async #store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.#open()).transaction(STORE, mode).objectStore(STORE);
  }

  /** The remembered identity, if any (a damaged record counts as none). */
  async load(): Promise<ChatIdentity | undefined> {
    const value = await request(
      (await this.#store("readonly")).get(RECORD),
      "load",
    );
    return parseStoredIdentity(value);
  }

  /** Remembers `identity`. */
  async save(identity: ChatIdentity): Promise<void> {
    await request(
      (await this.#store("readwrite")).put({ ...identity }, RECORD),
      "save",
    );
  }

  /** Forgets the remembered identity. */
  async clear(): Promise<void> {
    await request((await this.#store("readwrite")).delete(RECORD), "forget");
  }
}
