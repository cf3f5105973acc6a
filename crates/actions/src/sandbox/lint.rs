//! Scripts that cannot run because they do not parse (`flowdm check`): ifV2 conditions, code
//! steps and functions (as ES modules), compiled (not run) by QuickJS in a context of their own.

use super::engine::describe;
use flowdm_model::{NodeKind, Project};
use rquickjs::{Context, Ctx, Function, Module, Runtime};

/// Compiles `source` as a function body (`async` for code steps, which may `await`).
const COMPILE: &str =
    "(function (source, asyncBody) { (asyncBody ? (async function () {}).constructor : Function)(source); })";

/// Why each script of the project's programs does not parse, one line each (sorted).
pub fn lint_project(project: &Project) -> Vec<String> {
    let mut scripts: Vec<(String, String, bool)> = Vec::new();
    for (pid, program) in &project.programs {
        for (id, node) in &program.lines {
            match &node.kind {
                NodeKind::IfV2(n) => {
                    for expr in n.expressions.iter().filter(|e| !e.trim().is_empty()) {
                        let at = format!("condition of step {id} (program {pid})");
                        scripts.push((at, format!("return ({expr}\n);"), false));
                    }
                }
                NodeKind::Code(n) => {
                    let at = format!("code step {id} (program {pid})");
                    scripts.push((at, n.code.clone(), true));
                }
                _ => {}
            }
        }
    }
    let mut functions: Vec<(&String, &str)> = project
        .version
        .functions
        .iter()
        .map(|(id, f)| (id, f.code.as_str()))
        .collect();
    functions.sort();
    // One QuickJS context compiles every script of the project.
    let Ok(runtime) = Runtime::new() else {
        return Vec::new();
    };
    let Ok(context) = Context::full(&runtime) else {
        return Vec::new();
    };
    let mut out: Vec<String> = context.with(|ctx| {
        let steps = scripts.into_iter().filter_map(|(at, source, async_body)| {
            compile_error(&ctx, &source, async_body)
                .map(|e| format!("script: the {at} does not parse: {e}"))
        });
        let modules = functions.iter().filter_map(|(id, code)| {
            module_error(&ctx, code)
                .map(|e| format!("script: the code of function {id} does not parse: {e}"))
        });
        steps.chain(modules).collect()
    });
    out.sort();
    out
}

/// The syntax error of `source` as a function body, if any (compiled in `ctx`, not run).
fn compile_error(ctx: &Ctx<'_>, source: &str, async_body: bool) -> Option<String> {
    let compile: Function = ctx.eval(COMPILE).ok()?;
    compile
        .call::<_, ()>((source, async_body))
        .err()
        .map(|e| describe(ctx, e, false).to_string())
}

/// The syntax error of `source` as an ES module, if any (declared in `ctx`, not evaluated).
fn module_error(ctx: &Ctx<'_>, source: &str) -> Option<String> {
    Module::declare(ctx.clone(), "function.js", source)
        .err()
        .map(|e| describe(ctx, e, false).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`compile_error`] in a context of its own.
    fn syntax_error(source: &str, async_body: bool) -> Option<String> {
        let runtime = Runtime::new().ok()?;
        let context = Context::full(&runtime).ok()?;
        context.with(|ctx| compile_error(&ctx, source, async_body))
    }

    #[test]
    fn reports_what_does_not_parse_only() {
        assert_eq!(
            syntax_error("return (a > 1 && b.map(x => x * 2)\n);", false),
            None
        );
        assert_eq!(
            syntax_error("const r = await fetch('x'); return r;", true),
            None
        );
        assert!(syntax_error("return (a > \n);", false).is_some());
        let e = syntax_error("if (x { y = 1 }", true).unwrap();
        assert!(e.contains("SyntaxError") || e.contains("expecting"), "{e}");
    }

    #[test]
    fn functions_are_modules() {
        let runtime = Runtime::new().unwrap();
        let context = Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let ok = "const k = 2;\nexport default async function main(args) {\n  const r = await fetch('https://x.example');\n  return { outputVars: { n: k } };\n}";
            assert_eq!(module_error(&ctx, ok), None);
            assert_eq!(module_error(&ctx, "export default main; function main() {}"), None);
            let e = module_error(&ctx, "export default async function main( {").unwrap();
            assert!(e.contains("SyntaxError"), "{e}");
        });
    }
}
