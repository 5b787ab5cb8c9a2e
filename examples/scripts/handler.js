// A request handler for js.elf: glint run --load handler.js js.elf Call handle JSON_ARGS.
// `served` counts requests; every isolated call starts from the loaded state, so it is always 1.
var served = 0;

function handle(req) {
  served++;
  return {greeting: "hello, " + req.name, words: req.tags.length, served: served};
}
