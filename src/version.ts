/** The product version, from package.json (bundled into the compiled binary). */
import pkg from "../package.json";

export const VERSION: string = pkg.version;
