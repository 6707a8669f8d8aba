-- A video player's pattern on one file: 1 MiB slices in order, and a seek now and then.
local size = tonumber(os.getenv("MEDIA_SIZE"))
local slice = 1048576
local offset = 0
math.randomseed(42)

request = function()
  if math.random() < 0.1 then offset = math.random(0, size - slice) end
  if offset >= size then offset = 0 end
  local last = math.min(offset + slice, size) - 1
  local range = "bytes=" .. offset .. "-" .. last
  offset = last + 1
  return wrk.format("GET", nil, {["Range"] = range})
end
