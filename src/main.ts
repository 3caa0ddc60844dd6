// The entry point: `node dist/main.js`, with no flags. The young generation is capped first, by a module
// that imports nothing heavy; only then is the rest loaded, since loading a module graph already
// allocates enough for V8 to grow it (see young-generation.ts).
import './young-generation.js';

await import('./serve.js');
