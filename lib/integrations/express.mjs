// ESM entry of polykv/express; the implementation is the CommonJS express.js.
import expressStore from "./express.js";

export default expressStore;
export const { ExpressStore } = expressStore;
