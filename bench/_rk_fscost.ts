import { readRackApp } from "../runtime/runners/rack.ts";
import { MemFs, writeFileAt } from "../runtime/vfs/mod.ts";
const app = await readRackApp(new URL("../examples/ruby-blog", import.meta.url));
const xs = [];
for (let i = 0; i < 200; i++) { const t = performance.now(); const fs = new MemFs(); fs.mkdirp("/app"); for (const [p, b] of app.files) writeFileAt(fs.root, "/app/" + p, b); xs.push(performance.now() - t); }
xs.sort((a, b) => a - b); console.log(app.files.size, "files; build p50", xs[100].toFixed(3), "min", xs[0].toFixed(3));
