// ESM entry of polykv/fedify; the implementation is the CommonJS fedify.js.
import fedifyKvStore from "./fedify.js";

export default fedifyKvStore;
export const { FedifyKvStore } = fedifyKvStore;
