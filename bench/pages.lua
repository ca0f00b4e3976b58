-- wrk: GET each path of the file named after `--`, in turn (each thread starts at its own offset)
local paths, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
