//! No file of any crate imports from a file that imports it, directly or through a longer chain.
//!
//! For every crate (`crates/*/src`, `web/src`, `tests/src`) the test reads each `src/**/*.rs`,
//! maps it to its module path (`src/a/b.rs` and `src/a/b/mod.rs` are `a::b`, the crate root is
//! `lib.rs`, else `main.rs`), and draws an edge from a file to every file it names in a path:
//! `use` trees (`crate::`, `self::`, `super::`, a child module's name, grouped braces) and
//! inline paths (`crate::x::y`, `super::x`, `child::x`) outside comments and literals. A path
//! leads to the file of its longest prefix that is a module (inline `mod x { .. }` blocks
//! belong to their file), so `crate::X` for a root re-export leads to `lib.rs`, and a parent's
//! `pub use child::X` is an edge from the parent to the child. `mod x;` declarations are not
//! edges. Every strongly connected component of more than one file is a failure; the message
//! names one cycle through it and every import between its files (file:line and the path).
//!
//! Std only: a small lexer (comments, strings, chars and raw strings are blanked out), no
//! macro expansion. `#[path]` attributes are refused, since the file layout would then not
//! give the module path.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The workspace root (the folder above this package).
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .expect("tests/ has a parent")
}

/// Every crate's `src` folder, sorted.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let crates = root.join("crates");
    for entry in std::fs::read_dir(&crates).expect("crates/") {
        let src = entry.expect("entry").path().join("src");
        if src.is_dir() {
            out.push(src);
        }
    }
    for extra in ["web/src", "tests/src"] {
        let src = root.join(extra);
        if src.is_dir() {
            out.push(src);
        }
    }
    out.sort();
    out
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of `rel` (relative to `src`): `a/b.rs` and `a/b/mod.rs` are `[a, b]`; the
/// crate root is `[]`. `None` for `main.rs` when the crate also has a `lib.rs` (another crate).
fn module_path(rel: &Path, has_lib: bool) -> Option<Vec<String>> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.trim_end_matches(".rs");
    match (parts.is_empty(), stem) {
        (true, "lib") => {}
        (true, "main") if !has_lib => {}
        (true, "main") => return None,
        (_, "mod") => {}
        _ => parts.push(stem.to_string()),
    }
    Some(parts)
}

/// `src` with comments, string, byte-string, raw-string and char literals replaced by spaces
/// (newlines kept, so line numbers stay right). Lifetimes are kept.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        if at(i) == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if at(i) == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                    out.push_str("  ");
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    out.push_str("  ");
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&c, i) {
            // r"..", r#".."#, br#".."#: up to the quote followed by as many hashes.
            let mut k = i;
            while c[k] != '"' {
                k += 1;
            }
            k += 1;
            loop {
                if k >= c.len() {
                    break;
                }
                if c[k] == '"' && (0..hashes).all(|h| at(k + 1 + h) == '#') {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            for &ch in &c[i..k.min(c.len())] {
                blank(&mut out, ch);
            }
            i = k;
        } else if at(i) == '"' || (at(i) == 'b' && at(i + 1) == '"' && !ident_char(prev(&c, i))) {
            let start = i;
            i += if at(i) == 'b' { 2 } else { 1 };
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(c.len());
            for &ch in &c[start..i] {
                blank(&mut out, ch);
            }
        } else if at(i) == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a, 'static).
            let end = if at(i + 1) == '\\' {
                let mut k = i + 2;
                while k < c.len() && c[k] != '\'' {
                    k += 1;
                }
                Some(k)
            } else if at(i + 2) == '\'' {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(k) => {
                    for &ch in &c[i..=k.min(c.len() - 1)] {
                        blank(&mut out, ch);
                    }
                    i = k + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn prev(c: &[char], i: usize) -> char {
    if i == 0 { ' ' } else { c[i - 1] }
}

fn ident_char(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The number of `#`s when a raw (byte) string starts at `i`.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    if ident_char(prev(c, i)) {
        return None;
    }
    let mut k = i;
    if c.get(k) == Some(&'b') {
        k += 1;
    }
    if c.get(k) != Some(&'r') {
        return None;
    }
    k += 1;
    let mut hashes = 0;
    while c.get(k) == Some(&'#') {
        hashes += 1;
        k += 1;
    }
    (c.get(k) == Some(&'"')).then_some(hashes)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other(char),
}

/// Tokens with their 1-based line.
fn tokens(stripped: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = stripped.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ident_char(ch) || (ch == '$' && c.get(i + 1).is_some_and(|&n| ident_char(n))) {
            let start = i;
            i += 1;
            while i < c.len() && ident_char(c[i]) {
                i += 1;
            }
            let mut word: String = c[start..i].iter().collect();
            if word == "r" && c.get(i) == Some(&'#') {
                // r#ident
                i += 1;
                let s = i;
                while i < c.len() && ident_char(c[i]) {
                    i += 1;
                }
                word = c[s..i].iter().collect();
            }
            out.push((Tok::Ident(word), line));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            let tok = match ch {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                ';' => Tok::Semi,
                '*' => Tok::Star,
                other => Tok::Other(other),
            };
            out.push((tok, line));
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&(Tok, usize)>, word: &str) -> bool {
    matches!(t, Some((Tok::Ident(w), _)) if w == word)
}

/// The paths of one `use` tree starting at `t[*i]` under `prefix` (grouped braces expanded,
/// `as` aliases dropped, a trailing `self` removed).
fn use_tree(t: &[(Tok, usize)], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    if matches!(t.get(*i), Some((Tok::PathSep, _))) {
        *i += 1;
        path.push("::".into()); // `::name`: an extern crate
    }
    loop {
        match t.get(*i).map(|x| &x.0) {
            Some(Tok::Ident(name)) => {
                path.push(name.clone());
                *i += 1;
                if matches!(t.get(*i), Some((Tok::PathSep, _))) {
                    *i += 1;
                    continue;
                }
                if is_ident(t.get(*i), "as") {
                    *i += 2;
                }
                if path.len() > 1 && path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                out.push(path);
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                while *i < t.len() {
                    match t[*i].0 {
                        Tok::Close => {
                            *i += 1;
                            return;
                        }
                        Tok::Comma => *i += 1,
                        _ => {
                            let before = *i;
                            use_tree(t, i, path.clone(), out);
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
                return;
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(path);
                return;
            }
            _ => {
                if !path.is_empty() {
                    out.push(path);
                }
                return;
            }
        }
    }
}

/// One path named in a file: where, the module it is named from, and its segments.
#[derive(Debug, Clone)]
struct Named {
    line: usize,
    module: Vec<String>,
    path: Vec<String>,
}

/// Every path a file names (use trees and inline `crate::`/`self::`/`super::`/`name::`
/// paths), and its inline modules (`mod x { .. }`), given the file's module path.
fn scan(stripped: &str, file_module: &[String]) -> (Vec<Named>, Vec<Vec<String>>) {
    let t = tokens(stripped);
    let mut named = Vec::new();
    let mut inline_modules = Vec::new();
    let mut module = file_module.to_vec();
    // (brace depth at which an inline module's block closes)
    let mut open_modules: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        match &t[i].0 {
            Tok::Open => {
                depth += 1;
                i += 1;
            }
            Tok::Close => {
                if open_modules.last() == Some(&depth) {
                    open_modules.pop();
                    module.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) =
                    (t.get(i + 1), t.get(i + 2))
                {
                    module.push(name.clone());
                    inline_modules.push(module.clone());
                    depth += 1;
                    open_modules.push(depth);
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Tok::Ident(w) if w == "use" => {
                let line = t[i].1;
                i += 1;
                let mut paths = Vec::new();
                use_tree(&t, &mut i, Vec::new(), &mut paths);
                for path in paths {
                    named.push(Named {
                        line,
                        module: module.clone(),
                        path,
                    });
                }
                while i < t.len() && t[i].0 != Tok::Semi {
                    i += 1;
                }
            }
            Tok::Ident(first) => {
                let after_sep = i > 0 && t[i - 1].0 == Tok::PathSep;
                if !after_sep
                    && !first.starts_with('$')
                    && t.get(i + 1).map(|x| &x.0) == Some(&Tok::PathSep)
                {
                    let line = t[i].1;
                    let mut path = vec![first.clone()];
                    let mut k = i + 2;
                    while let Some((Tok::Ident(seg), _)) = t.get(k) {
                        path.push(seg.clone());
                        if t.get(k + 1).map(|x| &x.0) == Some(&Tok::PathSep) {
                            k += 2;
                        } else {
                            k += 1;
                            break;
                        }
                    }
                    named.push(Named {
                        line,
                        module: module.clone(),
                        path,
                    });
                    i = k.max(i + 1);
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (named, inline_modules)
}

/// The absolute module path `path` (named from `module`) points into, or `None` when it is
/// not this crate's (an extern crate, a local type or enum).
fn absolute(
    module: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<Vec<String>> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some([module, &path[1..]].concat()),
        "super" => {
            let mut base = module.to_vec();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                base.pop()?;
                k += 1;
            }
            Some([base.as_slice(), &path[k..]].concat())
        }
        "::" => None,
        name => {
            let child = [module, &[name.to_string()][..]].concat();
            modules
                .contains_key(&child)
                .then(|| [module, path].concat())
        }
    }
}

/// The file (index) of the longest prefix of `path` that is a module.
fn file_of(path: &[String], modules: &BTreeMap<Vec<String>, usize>) -> Option<usize> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n]).copied())
}

/// One import edge: from file, to file, line, and the path as written.
#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    to: usize,
    line: usize,
    path: String,
}

/// A crate's file-level import graph.
#[derive(Debug)]
struct Graph {
    files: Vec<String>,
    edges: Vec<Edge>,
}

/// Builds the graph of the crate whose sources are in `src`.
fn crate_graph(src: &Path) -> Graph {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let has_lib = src.join("lib.rs").is_file();
    let mut files = Vec::new();
    let mut texts = Vec::new();
    let mut modules: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for path in paths {
        let rel = path.strip_prefix(src).expect("under src").to_path_buf();
        let Some(module) = module_path(&rel, has_lib) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("readable source");
        let stripped = strip(&text);
        assert!(
            !stripped.contains("#[path"),
            "{}: #[path] attributes hide the module layout from this test",
            path.display()
        );
        modules.insert(module.clone(), files.len());
        files.push(rel.to_string_lossy().into_owned());
        texts.push((module, stripped));
    }
    let scans: Vec<(Vec<Named>, Vec<Vec<String>>)> = texts
        .iter()
        .map(|(module, stripped)| scan(stripped, module))
        .collect();
    for (index, (_, inline)) in scans.iter().enumerate() {
        for m in inline {
            modules.entry(m.clone()).or_insert(index);
        }
    }
    let mut edges = Vec::new();
    for (from, (named, _)) in scans.iter().enumerate() {
        for n in named {
            let Some(abs) = absolute(&n.module, &n.path, &modules) else {
                continue;
            };
            if let Some(to) = file_of(&abs, &modules).filter(|&to| to != from) {
                edges.push(Edge {
                    from,
                    to,
                    line: n.line,
                    path: n.path.join("::"),
                });
            }
        }
    }
    Graph { files, edges }
}

/// Strongly connected components of more than one node (Tarjan), each sorted, in order of
/// their smallest node. `adj[v]` lists v's successors; self-loops are ignored.
fn cycles(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adj[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort_unstable();
                s.out.push(comp);
            }
        }
    }
    let n = adj.len();
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// A shortest cycle through `start` inside `comp` (breadth-first), as nodes, `start` first.
fn one_cycle(adj: &[Vec<usize>], comp: &[usize], start: usize) -> Vec<usize> {
    let inside: BTreeSet<usize> = comp.iter().copied().collect();
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if w == start {
                let mut path = vec![v];
                let mut cur = v;
                while cur != start {
                    cur = parent[&cur];
                    path.push(cur);
                }
                path.reverse();
                return path;
            }
            if inside.contains(&w) && w != start && !parent.contains_key(&w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

/// A description of every cycle of `g` (empty when there is none).
fn describe_cycles(name: &str, g: &Graph) -> Vec<String> {
    let mut adj = vec![Vec::new(); g.files.len()];
    for e in &g.edges {
        if !adj[e.from].contains(&e.to) {
            adj[e.from].push(e.to);
        }
    }
    for a in &mut adj {
        a.sort_unstable();
    }
    cycles(&adj)
        .into_iter()
        .map(|comp| {
            let cycle = one_cycle(&adj, &comp, comp[0]);
            let mut text = format!(
                "{name}: {} files import each other, e.g. {} -> {}",
                comp.len(),
                cycle
                    .iter()
                    .map(|&v| g.files[v].as_str())
                    .collect::<Vec<_>>()
                    .join(" -> "),
                g.files[cycle[0]]
            );
            // One line per import statement: file:line -> file (the paths it names there).
            let mut lines: BTreeMap<(usize, usize, usize), Vec<&str>> = BTreeMap::new();
            for e in &g.edges {
                if comp.contains(&e.from) && comp.contains(&e.to) {
                    let paths = lines.entry((e.from, e.line, e.to)).or_default();
                    if !paths.contains(&e.path.as_str()) {
                        paths.push(&e.path);
                    }
                }
            }
            for ((from, line, to), paths) in lines {
                text.push_str(&format!(
                    "\n    {}:{line} -> {} ({})",
                    g.files[from],
                    g.files[to],
                    paths.join(", ")
                ));
            }
            text
        })
        .collect()
}

#[test]
fn no_crate_has_a_file_level_import_cycle() {
    let root = workspace_root();
    let sources = crate_sources(&root);
    assert!(sources.len() >= 5, "found only {sources:?}");
    let mut failures = Vec::new();
    let mut edges = 0;
    for src in &sources {
        let g = crate_graph(src);
        edges += g.edges.len();
        let name = src
            .strip_prefix(&root)
            .unwrap_or(src)
            .to_string_lossy()
            .into_owned();
        failures.extend(describe_cycles(&name, &g));
    }
    assert!(
        edges > 100,
        "only {edges} import edges found: the scanner is broken"
    );
    assert!(
        failures.is_empty(),
        "{} import cycle(s) (no file may import from a file that imports it; children import \
         siblings directly, not through their parent's re-exports):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_every_cycle_of_a_small_graph() {
    // 0 -> 1 -> 2 -> 0 and 3 <-> 4; 2 -> 3 joins them one way; 5 loops on itself; 6 is alone.
    let adj = vec![
        vec![1],
        vec![2],
        vec![0, 3],
        vec![4],
        vec![3],
        vec![5],
        vec![],
    ];
    assert_eq!(cycles(&adj), vec![vec![0, 1, 2], vec![3, 4]]);
    assert_eq!(one_cycle(&adj, &[0, 1, 2], 0), vec![0, 1, 2]);
    // A chain and a diamond have none.
    assert!(cycles(&[vec![1], vec![2], vec![]]).is_empty());
    assert!(cycles(&[vec![1, 2], vec![3], vec![3], vec![]]).is_empty());
}

#[test]
fn use_trees_and_inline_paths_are_resolved_to_files() {
    let mut modules = BTreeMap::new();
    for (i, m) in [&[][..], &["a"], &["a", "b"], &["c"]].iter().enumerate() {
        modules.insert(m.iter().map(|s| s.to_string()).collect::<Vec<_>>(), i);
    }
    let src = r#"
        // use crate::c::Ignored;
        use crate::{a::b::{self, X}, c as d};
        use super::Y;
        use std::fmt;
        fn f() -> &'static str { let _ = crate::c::g(); "use crate::c;" }
        mod tests { use super::*; use b::Z; }
    "#;
    let here: Vec<String> = vec!["a".into()];
    let (named, inline) = scan(&strip(src), &here);
    assert_eq!(inline, vec![vec!["a".to_string(), "tests".to_string()]]);
    let files: Vec<(usize, Option<usize>)> = named
        .iter()
        .map(|n| {
            let file = absolute(&n.module, &n.path, &modules).and_then(|p| file_of(&p, &modules));
            (n.line, file)
        })
        .collect();
    assert_eq!(
        files,
        vec![
            (3, Some(2)), // crate::a::b (self)
            (3, Some(2)), // crate::a::b::X
            (3, Some(3)), // crate::c as d
            (4, Some(0)), // super::Y: the crate root
            (5, None),    // std
            (6, Some(3)), // crate::c::g
            (7, Some(1)), // super::* from a::tests: a itself
            (7, None),    // b::Z from a::tests: b is no child of a::tests
        ]
    );
}
