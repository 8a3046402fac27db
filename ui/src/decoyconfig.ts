// Reads an agent's decoy configuration (the YAML of SetAgentConfig) far
// enough to draw the topology: deckies with the name, persona and listen
// address of each service. The agent parses and validates the document
// itself. This reader only has to agree with it on well-formed files.
//
// NOTE: it reads block-style YAML, which is what the agent writes and what
// the documentation shows. Flow collections other than {} and [], block
// scalars (| and >), anchors, aliases and tags raise DecoyConfigSyntaxError
// even where the agent would accept them.

export interface ConfiguredService {
  name: string;
  persona: string;
  listen: string;
}

export interface ConfiguredDecky {
  name: string;
  services: ConfiguredService[];
}

export class DecoyConfigSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecoyConfigSyntaxError";
  }
}

type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  // "-" for a sequence item marker, otherwise the content without indent.
  text: string;
  number: number;
}

// Parses text into the deckies it configures, in file order.
export function parseDecoyConfig(text: string): ConfiguredDecky[] {
  const root = parseYaml(text);
  if (root === null) {
    return [];
  }
  if (!isMap(root)) {
    throw new DecoyConfigSyntaxError("the document must be a mapping with a deckies key");
  }
  const deckies = root["deckies"];
  if (deckies === undefined || deckies === null) {
    return [];
  }
  if (!Array.isArray(deckies)) {
    throw new DecoyConfigSyntaxError("deckies must be a list");
  }
  return deckies.map((item, i) => toDecky(item, i));
}

function toDecky(item: YamlValue, index: number): ConfiguredDecky {
  if (!isMap(item)) {
    throw new DecoyConfigSyntaxError(`decky ${index + 1} must be a mapping`);
  }
  const name = scalarField(item, "name");
  const services = item["services"];
  if (services !== undefined && services !== null && !Array.isArray(services)) {
    throw new DecoyConfigSyntaxError(`decky ${name || index + 1}: services must be a list`);
  }
  return {
    name,
    services: (services ?? []).map((s, i) => {
      if (!isMap(s)) {
        throw new DecoyConfigSyntaxError(`decky ${name || index + 1}: service ${i + 1} must be a mapping`);
      }
      return {
        name: scalarField(s, "name"),
        persona: scalarField(s, "persona"),
        listen: scalarField(s, "listen"),
      };
    }),
  };
}

function scalarField(map: { [key: string]: YamlValue }, key: string): string {
  const value = map[key];
  return typeof value === "string" ? value : "";
}

function isMap(value: YamlValue | undefined): value is { [key: string]: YamlValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Parses the block-style subset described at the top of the file. An
// empty document is null.
export function parseYaml(text: string): YamlValue {
  const lines = tokenize(text);
  const first = lines[0];
  if (first === undefined) {
    return null;
  }
  const parser = new BlockParser(lines);
  const value = parser.parseNode(first.indent);
  parser.expectEnd();
  return value;
}

function tokenize(text: string): Line[] {
  const out: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const number = i + 1;
    const body = stripComment(raw).trimEnd();
    const trimmed = body.trimStart();
    if (trimmed === "" || trimmed === "---" || trimmed === "...") {
      return;
    }
    const leading = body.slice(0, body.length - trimmed.length);
    if (leading.includes("\t")) {
      throw new DecoyConfigSyntaxError(`line ${number}: tabs are not allowed in indentation`);
    }
    // "- key: value" is a sequence item whose content sits where the key
    // starts, so the dash becomes its own line and the rest is indented
    // past it. Nested items ("- - a") repeat this.
    let indent = leading.length;
    let rest = trimmed;
    while (rest === "-" || rest.startsWith("- ")) {
      out.push({ indent, text: "-", number });
      const after = rest.slice(1);
      const content = after.trimStart();
      indent += 1 + after.length - content.length;
      rest = content;
    }
    if (rest !== "") {
      out.push({ indent, text: rest, number });
    }
  });
  return out;
}

// Removes a comment: "#" at the start or after whitespace, outside quotes.
function stripComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== "") {
      if (c === quote) {
        quote = "";
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#" && (i === 0 || line[i - 1] === " " || line[i - 1] === "\t")) {
      return line.slice(0, i);
    }
  }
  return line;
}

class BlockParser {
  private pos = 0;

  constructor(private readonly lines: readonly Line[]) {}

  parseNode(indent: number): YamlValue {
    return this.peek()?.text === "-" ? this.parseSequence(indent) : this.parseMapping(indent);
  }

  expectEnd(): void {
    const line = this.peek();
    if (line !== undefined) {
      throw new DecoyConfigSyntaxError(`line ${line.number}: unexpected indentation`);
    }
  }

  private parseSequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let dash = this.at(indent); dash?.text === "-"; dash = this.at(indent)) {
      this.pos++;
      const next = this.peek();
      if (next === undefined || next.indent <= indent) {
        items.push(null);
      } else if (next.number === dash.number && next.text !== "-" && findKeyColon(next.text) < 0) {
        // "- value": a scalar item.
        this.pos++;
        items.push(parseScalar(next.text, next.number));
      } else {
        items.push(this.parseNode(next.indent));
      }
    }
    return items;
  }

  private parseMapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (let line = this.at(indent); line !== undefined && line.text !== "-"; line = this.at(indent)) {
      this.pos++;
      const [key, value] = splitKey(line);
      if (Object.hasOwn(map, key)) {
        throw new DecoyConfigSyntaxError(`line ${line.number}: duplicate key ${key}`);
      }
      const next = this.peek();
      if (value !== "") {
        map[key] = parseScalar(value, line.number);
      } else if (next !== undefined && next.indent > indent) {
        map[key] = this.parseNode(next.indent);
      } else if (next !== undefined && next.indent === indent && next.text === "-") {
        // A sequence may sit at its key's indentation ("key:\n- a").
        map[key] = this.parseSequence(indent);
      } else {
        map[key] = null;
      }
      const after = this.peek();
      if (after !== undefined && after.indent > indent) {
        throw new DecoyConfigSyntaxError(`line ${after.number}: unexpected indentation`);
      }
    }
    return map;
  }

  private peek(): Line | undefined {
    return this.lines[this.pos];
  }

  // Returns the current line if it sits at indent.
  private at(indent: number): Line | undefined {
    const line = this.peek();
    return line?.indent === indent ? line : undefined;
  }
}

// Splits "key: value" at the colon findKeyColon finds.
function splitKey(line: Line): [string, string] {
  const colon = findKeyColon(line.text);
  const key = colon < 0 ? null : parseScalar(line.text.slice(0, colon).trim(), line.number);
  if (typeof key !== "string" || key === "") {
    throw new DecoyConfigSyntaxError(`line ${line.number}: expected "key: value"`);
  }
  return [key, line.text.slice(colon + 1).trim()];
}

// Returns the index of the first colon outside quotes that ends the text or
// is followed by a space, or -1.
function findKeyColon(text: string): number {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== "") {
      if (c === quote) {
        quote = "";
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ":" && (i === text.length - 1 || text[i + 1] === " ")) {
      return i;
    }
  }
  return -1;
}

function parseScalar(text: string, lineNumber: number): YamlValue {
  if (text === "{}") {
    return {};
  }
  if (text === "[]") {
    return [];
  }
  const first = text.charAt(0);
  if (first === '"') {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === "string") {
        return value;
      }
    } catch {
      // Reported below.
    }
    throw new DecoyConfigSyntaxError(`line ${lineNumber}: unterminated or invalid double-quoted string`);
  }
  if (first === "'") {
    if (text.length < 2 || !text.endsWith("'")) {
      throw new DecoyConfigSyntaxError(`line ${lineNumber}: unterminated single-quoted string`);
    }
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (first !== "" && "{[|>&*!".includes(first)) {
    throw new DecoyConfigSyntaxError(
      `line ${lineNumber}: flow collections, block scalars, anchors and tags are not supported here`,
    );
  }
  return text;
}
