/** `@pm/cache-core/file`: the file tier, shared by the processes of one host. */
export { FILE_STORE_MARKER, FileStore, type FileStoreOptions } from './stores/file-store.js';
