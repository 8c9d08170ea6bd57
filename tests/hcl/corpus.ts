// Where the shared corpus lives: beside the repository (as in CI's checkout), not at a fixed path.
import { resolve } from "node:path";

export const CORPUS = resolve(import.meta.dir, "../../../shared/corpus");
