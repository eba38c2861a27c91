import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
var n={now:()=>Date.now(),after(o,t){let e=setTimeout(t,o);return e.unref?.(),()=>clearTimeout(e)}};export{n as a};
