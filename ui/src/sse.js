// Server-sent events read from a fetch body (EventSource cannot send an Authorization header).
// Framing as the HTML standard's event-stream parser has it: a line ends at CR, LF or CRLF, a blank line
// dispatches the event, `:` starts a comment, "field: value" loses one leading space.

export function eventParser(dispatch) {
  let buffer = "";
  let event = "";
  let data = [];
  let crAtEnd = false; // a chunk ended with CR: an LF starting the next one belongs to the same line end

  function line(text) {
    if (text === "") {
      if (data.length) dispatch(event || "message", data.join("\n"));
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }

  return function push(chunk) {
    if (crAtEnd && chunk.startsWith("\n")) chunk = chunk.slice(1);
    crAtEnd = false;
    buffer += chunk;
    const ends = /\r\n|\r|\n/g;
    let start = 0;
    let found;
    while ((found = ends.exec(buffer)) !== null) {
      crAtEnd = found[0] === "\r" && ends.lastIndex === buffer.length;
      line(buffer.slice(start, found.index));
      start = ends.lastIndex;
    }
    buffer = buffer.slice(start);
  };
}
