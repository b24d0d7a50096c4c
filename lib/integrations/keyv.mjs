// ESM entry of polykv/keyv; the implementation is the CommonJS keyv.js.
import keyvStore from "./keyv.js";

export default keyvStore;
export const { KeyvStore } = keyvStore;
