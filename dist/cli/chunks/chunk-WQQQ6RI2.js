import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
function n(r){return r instanceof Error?r.message:String(r)}export{n as a};
