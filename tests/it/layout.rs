//! The source layout holds: imports go one way (lower layers never import higher ones, no
//! two modules import each other, no cycle), `lib.rs` only declares and re-exports, and no
//! source file grows past 650 lines. Modules import each item from the module that owns it,
//! never through `lib.rs`'s re-exports.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The subsystems, lowest first: each may import only those before it.
const LAYERS: [&str; 11] = [
    "version",
    "sql",
    "report",
    "error",
    "migrations",
    "schema",
    "connection",
    "template",
    "testdb",
    "rows",
    "replay",
];

/// The most lines a source file may have.
const MAX_LINES: usize = 650;

type Module = Vec<String>;

/// Every module of the library (not the command) and its file.
fn modules() -> std::io::Result<BTreeMap<Module, PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if !path.ends_with("bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap_or(&path).with_extension("");
            let mut module: Module = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|l| l == "mod" || l == "lib") {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    Ok(found)
}

/// The code of a file without comments and without its `#[cfg(test)]` module.
fn code(path: &Path) -> std::io::Result<String> {
    let text = fs::read_to_string(path)?;
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    Ok(text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The paths a file names: `crate::a::b`, `super::a`, and in a folder's `mod.rs` (or
/// `lib.rs`) its own modules' `child::…`; brace groups expanded.
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if !starts_word || !(bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b':')
        {
            j += 1;
        }
        let word = &code[i..j];
        let mut segments: Vec<String> = word
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if word.contains("::") && !segments.is_empty() {
            let head = segments.remove(0);
            if word.ends_with("::") && bytes.get(j) == Some(&b'{') {
                let close = code[j..].find('}').map_or(bytes.len(), |c| j + c);
                for item in code[j + 1..close].split(',') {
                    let mut full = segments.clone();
                    full.extend(
                        item.trim()
                            .split("::")
                            .map(|s| s.split_whitespace().next().unwrap_or("").to_owned())
                            .filter(|s| !s.is_empty() && s != "self"),
                    );
                    out.push((head.clone(), full));
                }
                i = close;
                continue;
            }
            out.push((head, segments));
        }
        i = j;
    }
    out
}

/// Re-exports of a module: name → the path it re-exports.
fn reexports(code: &str, module: &Module) -> BTreeMap<String, Module> {
    let mut found = BTreeMap::new();
    for line in code.lines().map(str::trim) {
        let Some(rest) = line
            .strip_prefix("pub use ")
            .or_else(|| line.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        for (head, tail) in paths(rest) {
            let mut full = match head.as_str() {
                "crate" => Vec::new(),
                "super" => module[..module.len().saturating_sub(1)].to_vec(),
                _ => {
                    let mut m = module.clone();
                    m.push(head.clone());
                    m
                }
            };
            full.extend(tail);
            if let Some(name) = full.last().cloned() {
                found.insert(name, full);
            }
        }
    }
    found
}

/// The import graph of the library: module → modules whose items it names.
fn graph() -> std::io::Result<BTreeMap<Module, BTreeSet<Module>>> {
    let modules = modules()?;
    let mut codes = BTreeMap::new();
    let mut exports = BTreeMap::new();
    for (module, path) in &modules {
        let code = code(path)?;
        exports.insert(module.clone(), reexports(&code, module));
        codes.insert(module.clone(), code);
    }
    // A path to the module it names, following re-exports to the item's own module.
    let resolve = |mut path: Module| -> Option<Module> {
        for _ in 0..8 {
            let mut n = path.len();
            while n > 0 && !modules.contains_key(&path[..n]) {
                n -= 1;
            }
            let module = path[..n].to_vec();
            match path.get(n).and_then(|name| exports.get(&module)?.get(name)) {
                Some(target) if target != &path => {
                    let mut next = target.clone();
                    next.extend(path[n + 1..].iter().cloned());
                    path = next;
                }
                _ => return Some(module),
            }
        }
        None
    };
    let mut graph = BTreeMap::new();
    for (module, path) in &modules {
        let code = &codes[module];
        let is_folder = path.ends_with("mod.rs") || path.ends_with("lib.rs");
        let mut deps = BTreeSet::new();
        for (head, tail) in paths(code) {
            let mut full = match head.as_str() {
                "crate" => Vec::new(),
                "super" => module[..module.len().saturating_sub(1)].to_vec(),
                child if is_folder => {
                    let mut m = module.clone();
                    m.push(child.to_owned());
                    if !modules.contains_key(&m) {
                        continue;
                    }
                    m
                }
                _ => continue,
            };
            full.extend(tail);
            if let Some(target) = resolve(full)
                && !target.is_empty()
                && &target != module
            {
                deps.insert(target);
            }
        }
        graph.insert(module.clone(), deps);
    }
    Ok(graph)
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "lib".to_owned()
    } else {
        module.join("::")
    }
}

#[test]
fn lower_layers_never_import_higher_ones() -> TestResult {
    let graph = graph()?;
    let mut upward = Vec::new();
    for (module, deps) in &graph {
        let Some(layer) = module.first() else {
            continue;
        };
        let own = LAYERS
            .iter()
            .position(|l| l == layer)
            .ok_or(format!("{layer} is not a layer"))?;
        for dep in deps {
            let other = LAYERS
                .iter()
                .position(|l| *l == dep[0])
                .ok_or(format!("{} is not a layer", dep[0]))?;
            if other > own {
                upward.push(format!("{} imports {}", name(module), name(dep)));
            }
        }
    }
    assert!(upward.is_empty(), "{upward:#?}");
    // The check sees imports at all: the highest layer names lower ones.
    assert!(
        graph[&vec!["replay".to_owned(), "settings".to_owned()]]
            .contains(&vec!["migrations".to_owned(), "runner".to_owned()])
    );
    Ok(())
}

#[test]
fn no_module_imports_one_that_imports_it() -> TestResult {
    let graph = graph()?;
    // Depth-first search for a cycle, reporting its modules.
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        path: &mut Vec<Module>,
        done: &mut BTreeSet<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = path.iter().position(|m| m == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            let names: Vec<String> = cycle.iter().map(name).collect();
            panic!("import cycle: {}", names.join(" -> "));
        }
    }
    Ok(())
}

#[test]
fn lib_rs_only_declares_modules_and_re_exports() -> TestResult {
    let lib = code(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))?;
    let items: Vec<&str> = lib
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("#") && !l.starts_with("//"))
        .filter(|l| {
            !(l.starts_with("mod ") || l.starts_with("pub mod ") || l.starts_with("pub use "))
        })
        .filter(|l| !(l.starts_with("struct ") && l.ends_with("Doctests;")))
        .collect();
    assert!(
        items.is_empty(),
        "lib.rs holds more than declarations: {items:#?}"
    );
    Ok(())
}

#[test]
fn no_source_file_grows_past_the_limit() -> TestResult {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = modules()?.into_values().collect::<Vec<_>>();
    for entry in fs::read_dir(src.join("bin/sqlite-testdb"))? {
        files.push(entry?.path());
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "{long:#?}");
    Ok(())
}

#[test]
fn readme_shows_both_set_up_commands() -> TestResult {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))?;
    for command in ["cargo run --example quickstart", "cargo test "] {
        assert!(
            readme.lines().any(|l| l.starts_with(command)),
            "README.md has no line starting with {command:?}"
        );
    }
    Ok(())
}

/// The names `lib.rs` re-exports (`Error`, `TestDb`, …) that `code` imports through the
/// crate root (`crate::TestDb`, `crate::{Error, Result}`) rather than from their module.
fn root_imports(code: &str, root_names: &BTreeSet<String>) -> Vec<String> {
    paths(code)
        .into_iter()
        .filter(|(head, tail)| head == "crate" && tail.len() == 1 && root_names.contains(&tail[0]))
        .map(|(_, tail)| tail[0].clone())
        .collect()
}

#[test]
fn modules_import_items_from_their_owning_module_not_through_lib_rs() -> TestResult {
    let modules = modules()?;
    let lib = code(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))?;
    let root_names: BTreeSet<String> = reexports(&lib, &Vec::new()).into_keys().collect();
    assert!(root_names.contains("TestDb") && root_names.contains("Version"));
    // The check itself: a root import is found, an import from the owner is not.
    assert_eq!(
        root_imports(
            "use crate::{Error, Result};\nuse crate::testdb::TestDb;",
            &root_names
        ),
        ["Error", "Result"]
    );
    let mut found = Vec::new();
    for (module, path) in &modules {
        if module.is_empty() {
            continue;
        }
        // A macro names items by `$crate::`, through the root: it has no other way.
        let code = code(path)?.replace("$crate::", "$macro_crate::");
        for item in root_imports(&code, &root_names) {
            found.push(format!("{} imports crate::{item}", name(module)));
        }
    }
    assert!(
        found.is_empty(),
        "import these from their module: {found:#?}"
    );
    Ok(())
}
