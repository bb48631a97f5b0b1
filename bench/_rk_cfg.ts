import { loadApp } from "../config/mod.ts";
const r = await loadApp("examples/ruby-blog");
console.log(JSON.stringify(r, null, 1).slice(0, 3000));
