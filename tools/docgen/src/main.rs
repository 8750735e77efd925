//! docgen: the documents generated from the crate's source, written or checked.
//!
//!   docgen write   writes lua/library/kumo_parallelism.lua and docs/reference.md's tables
//!   docgen check   fails, naming the file and its first stale line, when one is not current
//!
//! It reads the source as Rust (syn), never builds it: explain()'s field list in
//! src/binding/table.rs (each class, named as its Rust type, and each field in order with its
//! LuaCATS type), the finding table in src/explain/finding.rs, and the rustdoc of the items
//! under src/. rustdoc is the one description: a class says what its Rust type's doc says, a
//! field what the doc of the Rust field or method its value is read from says (the first
//! `.name` after the class's binding in the value). A LuaCATS type `one_of:Type` is the union
//! of the strings Lua sees: `Type::NAMES`, or the strings `Type::as_str` returns, or for
//! `FindingCode` the finding table's codes.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Ident, ImplItem, Item, LitStr, Token};

/// The type file's module part: what `require` returns, and its functions.
const MODULE_PART: &str = include_str!("module.lua");
const TYPE_FILE: &str = "lua/library/kumo_parallelism.lua";
const REFERENCE: &str = "docs/reference.md";

fn main() -> ExitCode {
    let write = match std::env::args().nth(1).as_deref() {
        Some("write") => true,
        Some("check") => false,
        _ => {
            eprintln!("usage: docgen write|check (from the repository root)");
            return ExitCode::from(2);
        }
    };
    match generate().and_then(|files| settle(files, write)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("docgen: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Each generated file with what it must hold.
fn generate() -> Result<Vec<(&'static str, String)>, String> {
    let source = Source::read(Path::new("src"))?;
    let classes = classes
        .parse2(source.macro_body("lua_tables!")?)
        .map_err(|e| format!("src/binding/table.rs: the list: {e}"))?;
    let findings = finding_table(source.macro_body("finding_table")?)?;
    let docs = documented(&classes, &source, &findings)?;
    let reference = splice(
        &read(REFERENCE)?,
        &[("explain-fields", fields_section(&docs)), ("findings", findings_section(&findings))],
    )?;
    Ok(vec![(TYPE_FILE, type_file(&docs)), (REFERENCE, reference)])
}

/// Writes the files, or checks that each holds what it must.
fn settle(files: Vec<(&'static str, String)>, write: bool) -> Result<(), String> {
    for (path, generated) in files {
        if write {
            std::fs::write(path, generated).map_err(|e| format!("{path}: {e}"))?;
            continue;
        }
        let committed = read(path)?;
        if committed != generated {
            let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b);
            let line = line.unwrap_or(committed.lines().count().min(generated.lines().count()));
            let at = |text: &str| text.lines().nth(line).unwrap_or("(end of file)").to_owned();
            return Err(format!(
                "{path} is not what the source says, from line {}: run `make docs` and commit \
                 the result\ncommitted: {}\ngenerated: {}",
                line + 1,
                at(&committed),
                at(&generated)
            ));
        }
    }
    Ok(())
}

fn read(path: impl AsRef<Path>) -> Result<String, String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

// ---- the field list --------------------------------------------------------------------

/// One class of the list: its Rust type and its fields.
struct Class {
    name: String,
    fields: Vec<Field>,
}

/// One field: its Lua name, the member of the class's type its value is read from, and its
/// LuaCATS type as the list writes it.
struct Field {
    name: String,
    source: String,
    lua_type: String,
}

/// The `lua_tables!` list in table.rs: `Type, as binding { name: kind[(Class)] = value,
/// "LuaCATS type"; ... }` ...
fn classes(input: ParseStream) -> syn::Result<Vec<Class>> {
    let mut classes = Vec::new();
    while !input.is_empty() {
        input.call(Attribute::parse_outer)?;
        let name: Ident = input.parse()?;
        input.parse::<Token![,]>()?;
        input.parse::<Token![as]>()?;
        let binding: Ident = input.parse()?;
        let body;
        syn::braced!(body in input);
        let mut fields = Vec::new();
        while !body.is_empty() {
            let field = Ident::parse_any(&body)?;
            body.parse::<Token![:]>()?;
            let _kind: Ident = body.parse()?;
            if body.peek(syn::token::Paren) {
                let inner;
                syn::parenthesized!(inner in body);
                let _class: Ident = inner.parse()?;
            }
            body.parse::<Token![=]>()?;
            let value = up_to_comma(&body)?;
            body.parse::<Token![,]>()?;
            let lua_type: LitStr = body.parse()?;
            body.parse::<Token![;]>()?;
            let source = first_member(&value, &binding.to_string()).ok_or_else(|| {
                syn::Error::new(field.span(), format!("{field}'s value reads nothing of {binding}"))
            })?;
            fields.push(Field {
                name: field.unraw().to_string(),
                source,
                lua_type: lua_type.value(),
            });
        }
        classes.push(Class { name: name.to_string(), fields });
    }
    Ok(classes)
}

/// The tokens up to the next comma outside any brackets.
fn up_to_comma(input: ParseStream) -> syn::Result<Vec<TokenTree>> {
    input.step(|cursor| {
        let mut rest = *cursor;
        let mut tokens = Vec::new();
        while let Some((token, next)) = rest.token_tree() {
            if matches!(&token, TokenTree::Punct(punct) if punct.as_char() == ',') {
                return Ok((tokens, rest));
            }
            tokens.push(token);
            rest = next;
        }
        Err(cursor.error("a value without a comma after it"))
    })
}

/// Every token, the contents of brackets in place of the brackets.
fn flat(tokens: impl IntoIterator<Item = TokenTree>) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) => out.extend(flat(group.stream())),
            other => out.push(other),
        }
    }
    out
}

/// `x` in the first `binding.x` of a value.
fn first_member(value: &[TokenTree], binding: &str) -> Option<String> {
    let tokens = flat(value.iter().cloned());
    tokens.windows(3).find_map(|three| match three {
        [TokenTree::Ident(this), TokenTree::Punct(dot), TokenTree::Ident(member)]
            if this == binding && dot.as_char() == '.' =>
        {
            Some(member.unraw().to_string())
        }
        _ => None,
    })
}

// ---- the finding table -----------------------------------------------------------------

/// One row of the finding table.
struct FindingRow {
    code: String,
    severity: String,
    when: String,
    says: String,
}

/// The rows of `finding_table!` in finding.rs: `Variant, "code", Severity, rule, when: "...",
/// says: "...";`.
fn finding_table(tokens: TokenStream) -> Result<Vec<FindingRow>, String> {
    let tokens = flat(tokens);
    let text = |token: &TokenTree| -> Option<String> {
        let literal = syn::parse2::<LitStr>(token.clone().into_token_stream()).ok()?;
        Some(literal.value())
    };
    let is = |token: &TokenTree, word: &str| matches!(token, TokenTree::Ident(i) if i == word);
    let mut rows = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        if !is(token, "when") || at < 6 {
            continue;
        }
        let row = (|| {
            let severity = match tokens.get(at - 4)? {
                TokenTree::Ident(severity) => severity.to_string().to_lowercase(),
                _ => return None,
            };
            tokens.get(at + 4).filter(|t| is(t, "says"))?;
            Some(FindingRow {
                code: text(tokens.get(at - 6)?)?,
                severity,
                when: text(tokens.get(at + 2)?)?,
                says: text(tokens.get(at + 6)?)?,
            })
        })();
        rows.push(row.ok_or("src/explain/finding.rs: a row not of the table's form")?);
    }
    if rows.is_empty() {
        return Err("src/explain/finding.rs: the finding table has no rows".into());
    }
    Ok(rows)
}

// ---- the rustdoc -----------------------------------------------------------------------

/// What the crate's source says: each type's doc, each member's (field, method, constant)
/// doc, the string literals in each method and constant, and each macro's body: a
/// definition's by its name (`finding_table`), an invocation's by its name and `!`
/// (`lua_tables!`).
#[derive(Default)]
struct Source {
    types: HashMap<String, String>,
    members: HashMap<(String, String), String>,
    strings: HashMap<(String, String), Vec<String>>,
    macros: HashMap<String, TokenStream>,
}

impl Source {
    fn read(dir: &Path) -> Result<Source, String> {
        let mut source = Source::default();
        for path in rust_files(dir)? {
            let file =
                syn::parse_file(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            source.add(&file.items);
        }
        Ok(source)
    }

    /// A macro's body by its name.
    fn macro_body(&self, name: &str) -> Result<TokenStream, String> {
        self.macros.get(name).cloned().ok_or(format!("no macro {name} under src/"))
    }

    fn add(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Struct(item) => {
                    let name = item.ident.to_string();
                    self.types.insert(name.clone(), doc(&item.attrs));
                    for field in &item.fields {
                        if let Some(ident) = &field.ident {
                            let key = (name.clone(), ident.to_string());
                            self.members.insert(key, doc(&field.attrs));
                        }
                    }
                }
                Item::Enum(item) => {
                    self.types.insert(item.ident.to_string(), doc(&item.attrs));
                }
                Item::Impl(item) => {
                    let syn::Type::Path(path) = &*item.self_ty else { continue };
                    let Some(name) = path.path.segments.last().map(|s| s.ident.to_string()) else {
                        continue;
                    };
                    for member in &item.items {
                        let (ident, attrs, tokens) = match member {
                            ImplItem::Fn(f) => (&f.sig.ident, &f.attrs, f.block.to_token_stream()),
                            ImplItem::Const(c) => (&c.ident, &c.attrs, c.expr.to_token_stream()),
                            _ => continue,
                        };
                        let key = (name.clone(), ident.to_string());
                        self.strings.insert(key.clone(), strings(tokens));
                        self.members.insert(key, doc(attrs));
                    }
                }
                Item::Mod(item) => {
                    if let Some((_, items)) = &item.content {
                        self.add(items);
                    }
                }
                Item::Macro(item) => {
                    // a definition by its name, an invocation by its name and `!`
                    let name = match (&item.ident, item.mac.path.get_ident()) {
                        (Some(defined), _) => defined.to_string(),
                        (None, Some(invoked)) => format!("{invoked}!"),
                        (None, None) => continue,
                    };
                    self.macros.insert(name, item.mac.tokens.clone());
                }
                _ => {}
            }
        }
    }
}

/// The .rs files under `dir`, in a stable order.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    Ok(files)
}

/// A doc comment's lines, joined with newlines, each without the one space after `///`.
fn doc(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(meta) => match &meta.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) => {
                    let line = text.value();
                    Some(line.strip_prefix(' ').unwrap_or(&line).to_owned())
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines.join("\n")
}

/// The string literals in some tokens, in order, each once.
fn strings(tokens: TokenStream) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in flat(tokens) {
        if let Ok(text) = syn::parse2::<LitStr>(token.into_token_stream()) {
            if !found.contains(&text.value()) {
                found.push(text.value());
            }
        }
    }
    found
}

/// A doc as one line for Lua readers: its lines joined, and a rustdoc link `[text](path)` or
/// `[text]` written as its text.
fn prose(doc: &str) -> String {
    let joined = doc.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else { break };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[close + 1..];
        if rest.starts_with('(') {
            if let Some(end) = rest.find(')') {
                rest = &rest[end + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

// ---- the documents ---------------------------------------------------------------------

/// A class as the documents give it: its name, its description, and per field its name,
/// LuaCATS type and description.
struct ClassDoc {
    name: String,
    doc: String,
    fields: Vec<(String, String, String)>,
}

fn documented(
    classes: &[Class],
    source: &Source,
    findings: &[FindingRow],
) -> Result<Vec<ClassDoc>, String> {
    classes
        .iter()
        .map(|class| {
            let doc = source.types.get(&class.name).filter(|doc| !doc.is_empty());
            let doc = doc.ok_or(format!("{} has no rustdoc", class.name))?;
            let fields = class
                .fields
                .iter()
                .map(|field| {
                    let key = (class.name.clone(), field.source.clone());
                    let doc =
                        source.members.get(&key).filter(|doc| !doc.is_empty()).ok_or(format!(
                            "{}.{}: {}::{} has no rustdoc",
                            class.name, field.name, key.0, key.1
                        ))?;
                    let lua_type = lua_type(&field.lua_type, source, findings)?;
                    // a Rust doc may say which Lua name its item has: here that goes
                    let doc = prose(doc).replace(&format!(" (`{}` in Lua)", field.name), "");
                    // a field that may be nil says when: a Lua reader meets the nil
                    let optional = lua_type.ends_with('?') || lua_type.ends_with("|nil");
                    if optional && !doc.to_lowercase().contains("absent") {
                        return Err(format!(
                            "{}.{} may be nil, and its rustdoc ({}::{}) does not say when it is \
                             absent",
                            class.name, field.name, key.0, key.1
                        ));
                    }
                    Ok((field.name.clone(), lua_type, doc))
                })
                .collect::<Result<_, String>>()?;
            Ok(ClassDoc { name: class.name.clone(), doc: doc.clone(), fields })
        })
        .collect()
}

/// A LuaCATS type as the list writes it, with `one_of:Type` made the union of its strings.
fn lua_type(written: &str, source: &Source, findings: &[FindingRow]) -> Result<String, String> {
    let Some(rest) = written.strip_prefix("one_of:") else { return Ok(written.to_owned()) };
    let (name, tail) = rest.split_once('|').map_or((rest, ""), |(n, t)| (n, t));
    let names: Vec<String> = if name == "FindingCode" {
        findings.iter().map(|row| row.code.clone()).collect()
    } else {
        let of = |member: &str| source.strings.get(&(name.to_owned(), member.to_owned()));
        of("NAMES").or_else(|| of("as_str")).cloned().ok_or(format!("no strings for {name}"))?
    };
    let union = names.iter().map(|name| format!("{name:?}")).collect::<Vec<_>>().join("|");
    Ok(if tail.is_empty() { union } else { format!("{union}|{tail}") })
}

/// The classes in the type file: the top class (what explain() returns, the list's last)
/// first, then the others in the list's order.
fn in_reading_order(classes: &[ClassDoc]) -> Vec<&ClassDoc> {
    let top = classes.last();
    top.into_iter().chain(classes.iter().take(classes.len().saturating_sub(1))).collect()
}

/// lua/library/kumo_parallelism.lua.
fn type_file(classes: &[ClassDoc]) -> String {
    let mut file = String::from(MODULE_PART);
    for class in in_reading_order(classes) {
        file.push('\n');
        let _ = writeln!(file, "---{}", prose(&class.doc));
        let _ = writeln!(file, "---@class kumo_parallelism.{}", class.name);
        for (name, lua_type, doc) in &class.fields {
            let _ = writeln!(file, "---@field {name} {lua_type} {doc}");
        }
    }
    file.push_str("\nreturn kumo_parallelism\n");
    file
}

/// The explain() fields: one table for what explain() returns, one per class.
fn fields_section(classes: &[ClassDoc]) -> String {
    let mut section = String::new();
    for (index, class) in in_reading_order(classes).into_iter().enumerate() {
        if index > 0 {
            let _ =
                writeln!(section, "\n`kumo_parallelism.{}`: {}\n", class.name, prose(&class.doc));
        }
        section.push_str("| field | type | meaning |\n| --- | --- | --- |\n");
        for (name, lua_type, doc) in &class.fields {
            let lua_type = lua_type.replace('|', "\\|");
            let _ = writeln!(section, "| `{name}` | `{lua_type}` | {doc} |");
        }
    }
    section
}

/// The table of findings, in their order.
fn findings_section(rows: &[FindingRow]) -> String {
    let mut section =
        String::from("| `code` | severity | when | the text says |\n| --- | --- | --- | --- |\n");
    for row in rows {
        let _ = writeln!(
            section,
            "| `{}` | {} | {} | {} |",
            row.code, row.severity, row.when, row.says
        );
    }
    section
}

/// `document` with each named section, between its markers, made `content`.
fn splice(document: &str, sections: &[(&str, String)]) -> Result<String, String> {
    let mut document = document.to_owned();
    for (name, content) in sections {
        let begin = format!("<!-- generated: {name} (make docs, from src/binding/) -->\n");
        let end = format!("<!-- end of generated: {name} -->");
        let start =
            document.find(&begin).ok_or(format!("no {begin:?} in {REFERENCE}"))? + begin.len();
        let stop =
            document[start..].find(&end).ok_or(format!("no {end:?} in {REFERENCE}"))? + start;
        document.replace_range(start..stop, content);
    }
    Ok(document)
}
