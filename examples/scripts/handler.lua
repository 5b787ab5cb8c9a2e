-- A request handler for lua.elf: glint run --load handler.lua lua.elf Call handle JSON_ARGS.
-- `served` counts requests; every isolated call starts from the loaded state, so it is always 1.
served = 0

-- It answers with an array: a Lua table's keys have no order (its hash seed depends on addresses),
-- so an object's members could come out in any order.
function handle(req)
  served = served + 1
  return {"hello, " .. req.name, #req.tags, served}
end
