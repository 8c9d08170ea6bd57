// The one SourceFile lives in core/source/; this name stays for the modules that import it from here.
export { SourceFile, utf8Length } from "../../source/source-file.ts";
