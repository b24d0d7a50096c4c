// ESM entry of polykv/unstorage; the implementation is the CommonJS unstorage.js.
import unstorageDriver from "./unstorage.js";

export default unstorageDriver;
export const { UnstorageDriver, sessionDriver } = unstorageDriver;
