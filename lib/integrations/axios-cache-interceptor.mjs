// ESM entry of polykv/axios-cache-interceptor; the implementation is the CommonJS file beside it.
import axiosCacheStorage from "./axios-cache-interceptor.js";

export default axiosCacheStorage;
export const { AxiosCacheStorage } = axiosCacheStorage;
