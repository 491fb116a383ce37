// Entry point of the compiled binary (`bun run compile`, scripts/compile.sh): the embedded
// files are registered before the CLI's first line runs (imports evaluate in order).

import "./embed.ts";
import "../main.ts";
