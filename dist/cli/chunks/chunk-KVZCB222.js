import { createRequire as __bodyworkCreateRequire } from 'node:module'; const require = __bodyworkCreateRequire(import.meta.url);
function e(n){return n instanceof Error?n.message:String(n)}function t(n){let r=n.reason;return r instanceof Error&&r.name!=="AbortError"?r.message:typeof r=="string"&&r!==""?r:"cancelled"}export{e as a,t as b};
