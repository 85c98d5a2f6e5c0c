//! Loading and compiling jq programs with jaq, and turning jaq's error
//! reports into [`MappingError::Compile`] with line/column positions.
//!
//! jaq does not report byte offsets: every lex, parse and compile error carries
//! a `&str` that is a sub-slice of the program text (the offending token, or the
//! rest of the input for lex errors, or an empty slice at the very end for
//! "unexpected end of input"). The position is recovered from the pointer
//! distance between that slice and the program text.

use crate::{MappingError, Program};
use jaq_core::load::{self, Arena, File, Loader, parse::Def};
use jaq_core::{Compiler, compile, data::JustLut, native::Fun};
use jaq_json::Val;

/// Data kind for execution: plain JSON values, no custom global data
/// (so `input`/`inputs` are not available, which is what we want).
pub(crate) type Data = JustLut<Val>;

/// A compiled jq program. Owns its lookup table, so it has no lifetime and can
/// be shared (with the `sync` feature of jaq-json it is `Send + Sync`).
pub(crate) type Compiled = jaq_core::Filter<Data>;

/// Compile `code` with the full jaq standard library
/// (jaq-core + jaq-std + jaq-json definitions and native filters).
/// Longest program accepted. Mappings are a few lines; the bound keeps hostile input small.
const MAX_LEN: usize = 16 * 1024;
/// Deepest nesting, and most operators and path steps, accepted. jaq's parser and evaluator recurse
/// per nesting level and per chained operator; a few hundred of them exhaust a 2 MiB thread stack in
/// a debug build and abort the process, which no error could report.
const MAX_DEPTH: usize = 128;
const MAX_CHAIN: usize = 256;

/// Refuses programs too long or too deeply nested to parse safely. Brackets are counted everywhere
/// (also inside string literals, which only makes the bound stricter) and so are block keywords.
fn check_shape(program: Program, code: &str) -> Result<(), MappingError> {
    let too = |message: String| MappingError::Compile { program, line: 1, column: 1, message };
    if code.len() > MAX_LEN {
        return Err(too(format!("program is {} bytes; at most {MAX_LEN} are accepted", code.len())));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in code.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let blocks = code
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|w| matches!(*w, "if" | "reduce" | "foreach" | "try" | "def" | "label"))
        .count();
    if deepest > MAX_DEPTH || blocks > MAX_DEPTH {
        return Err(too(format!("program nests deeper than {MAX_DEPTH} levels; split it with `def`s or simplify it")));
    }
    let operators = code.chars().filter(|c| "|,+-*/%<>=".contains(*c)).count()
        + code.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| matches!(*w, "and" | "or")).count();
    let steps = code.chars().filter(|c| *c == '.').count();
    if operators > MAX_CHAIN || steps > MAX_CHAIN {
        return Err(too(format!(
            "program chains more than {MAX_CHAIN} operators or path steps; split it with `def`s or simplify it"
        )));
    }
    Ok(())
}

pub(crate) fn compile(program: Program, code: &str) -> Result<Compiled, MappingError> {
    check_shape(program, code)?;
    // The standard definitions are `Def<&'static str>`; the loader wants the
    // same string lifetime as the user program, so shorten them explicitly
    // (the type is covariant, this is a no-op).
    fn shorten<'s>(def: Def<&'static str>) -> Def<&'s str> {
        def
    }
    refuse_modules(program, code)?;
    let defs =
        jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()).chain(crate::functions::defs()).map(shorten);
    let funs: Vec<Fun<Data>> =
        jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs()).chain(crate::functions::funs()).collect();

    // Module loading (`import`/`include`) is left at the loader's default,
    // which refuses to read files: mappings come from config and must be
    // self-contained.
    let arena = Arena::default();
    let modules =
        Loader::new(defs).load(&arena, File { code, path: () }).map_err(|errs| load_error(program, code, errs))?;

    Compiler::default().with_funs(funs).compile(modules).map_err(|errs| compile_error(program, code, errs))
}

/// `import`, `include` and `module` are refused before loading: mappings must be self-contained,
/// and a data import (`import "x" as $x;`) would load, compile and then panic at run time for
/// want of its value.
fn refuse_modules(program: Program, code: &str) -> Result<(), MappingError> {
    use jaq_core::load::lex::{Lexer, Tok, Token};
    let Ok(tokens) = Lexer::new(code).lex() else { return Ok(()) };
    match tokens.first() {
        Some(Token(word, Tok::Word)) if matches!(*word, "import" | "include" | "module") => {
            let (line, column) = offset_of(code, word).map_or((1, 1), |o| line_col(code, o));
            let message = format!(
                "`{word}` is not supported: a mapping is one self-contained program (write helpers with `def`)"
            );
            Err(MappingError::Compile { program, line, column, message })
        }
        _ => Ok(()),
    }
}

/// One located error: the slice jaq pointed at and what to say about it.
type Located<'s> = (&'s str, String);

fn load_error(program: Program, code: &str, errs: load::Errors<&str, ()>) -> MappingError {
    let mut found: Vec<Located<'_>> = Vec::new();
    for (_file, err) in errs {
        match err {
            load::Error::Io(errs) => {
                found.extend(errs.into_iter().map(|(path, e)| (path, format!("{e} ({path})"))));
            }
            load::Error::Lex(errs) => found.extend(errs.into_iter().map(|e| lex_message(code, e))),
            load::Error::Parse(errs) => found.extend(errs.into_iter().map(parse_message)),
        }
    }
    located(program, code, found)
}

fn compile_error(program: Program, code: &str, errs: compile::Errors<&str, ()>) -> MappingError {
    let found = errs.into_iter().flat_map(|(_file, errs)| errs).map(|(name, undefined)| {
        let message = match undefined {
            compile::Undefined::Filter(arity) => format!("undefined filter `{name}/{arity}`"),
            other => format!("undefined {} `{name}`", other.as_str()),
        };
        (name, message)
    });
    located(program, code, found.collect())
}

/// Lex errors point at the remaining input where lexing failed.
fn lex_message<'s>(code: &'s str, (expect, rest): load::lex::Error<&'s str>) -> Located<'s> {
    use load::lex::Expect;
    let found = match rest.chars().next() {
        Some(c) => format!("`{c}`"),
        None => "end of input".to_owned(),
    };
    let mut message = format!("expected {}, found {found}", expect.as_str());
    // For an unclosed delimiter the useful extra fact is where it was opened.
    if let Expect::Delim(open) = expect
        && let Some(offset) = offset_of(code, open)
    {
        let (line, column) = line_col(code, offset);
        message.push_str(&format!(" (unclosed `{open}` at line {line}, column {column})"));
    }
    (rest, message)
}

/// Parse errors carry the token found instead of the expected one; it is the
/// empty slice at the end of the program when input ran out.
fn parse_message<'s>((expect, found): load::parse::Error<&'s str>) -> Located<'s> {
    let quoted = if found.is_empty() { "end of input".to_owned() } else { format!("`{}`", abbreviate(found)) };
    (found, format!("expected {}, found {quoted}", expect.as_str()))
}

/// A "token" can be a whole bracketed block or string; keep messages short.
fn abbreviate(token: &str) -> String {
    const MAX: usize = 24;
    let first_line = token.lines().next().unwrap_or_default();
    if first_line.len() == token.len() && token.chars().count() <= MAX {
        return token.to_owned();
    }
    let head: String = first_line.chars().take(MAX).collect();
    format!("{head}…")
}

/// Build the public error from the first located error, mentioning the rest.
fn located(program: Program, code: &str, found: Vec<Located<'_>>) -> MappingError {
    let more = found.len().saturating_sub(1);
    let (at, mut message) = found.into_iter().next().unwrap_or_else(|| (code, "unknown error".to_owned()));
    if more > 0 {
        message.push_str(&format!(" (and {more} more error(s))"));
    }
    // A slice that is not inside `code` (e.g. from the standard library,
    // which should never fail) is reported at the start of the program.
    let (line, column) = offset_of(code, at).map_or((1, 1), |o| line_col(code, o));
    MappingError::Compile { program, line, column, message }
}

/// Byte offset of `part` inside `whole`, if `part` really is a sub-slice.
/// Unlike `jaq_core::load::span`, this never panics on foreign slices.
pub(crate) fn offset_of(whole: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len() && whole.is_char_boundary(start)).then_some(start)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(code: &str, offset: usize) -> (usize, usize) {
    let before = &code[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
