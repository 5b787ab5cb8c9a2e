-- A request handler for lua.elf: glint run --load handler.lua lua.elf Call handle JSON_ARGS.
-- `served` counts requests; every isolated call starts from the loaded state, so it is always 1.
served = 0

function handle(req)
  served = served + 1
  return {greeting = "hello, " .. req.name, words = #req.tags, served = served}
end
