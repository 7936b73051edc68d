"""The heuristic's words, in zh and en: every sentence the analyzer writes, one pair per key.

Plain text (renderers escape and format it); each sentence states a fact of the commit and
names the file, symbol or rule it comes from.
"""

from __future__ import annotations

from typing import Any

from digest.models import Language

# The kind of change, opening the summary (the names the report uses for change types).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "feature": ("新功能", "Feature"), "improve": ("功能改进", "Improvement"),
    "bugfix": ("Bug修复", "Bug fix"), "perf": ("性能优化", "Performance"),
    "refactor": ("重构", "Refactor"), "docs": ("文档", "Docs"), "test": ("测试", "Tests"),
    "ci_build": ("CI/构建", "CI/build"), "deps": ("依赖更新", "Dependency update"),
    "config": ("配置", "Config"), "security": ("安全", "Security"), "revert": ("回滚", "Revert"),
    "chore": ("杂项", "Chore"), "change": ("代码改动", "Change"),
}  # fmt: skip

TEXT: dict[str, tuple[str, str]] = {
    # importance reasons (the heuristic's own rules; the shared lifts and caps word their own)
    "empty": ("提交不含文件改动。", "The commit changes no files."),
    "large": ("跨 {dirs} 个顶层目录、共 {lines} 行代码的大规模跨模块改动。",
              "A large cross-module change: {lines} code lines across {dirs} top-level dirs."),
    "docs_only": ("仅改动文档。", "Documentation-only change."),
    "test_only": ("仅改动测试。", "Test-only change."),
    "low_kw": ("标题表明是错别字、注释、格式、lint、超时或重命名类改动。",
               "The title marks a typo, comment, formatting, lint, timeout or rename change."),
    "docs_code": ("标题表明是文档改动，但也改动了源码文件，按小型维护改动对待。",
                  "The title says documentation, but source files change too: a small chore."),
    "feature_cli": ("标题表明新增了命令行选项、命令或接口，且改动了 {src} 行产品源码。",
                    "The title adds a CLI option, flag, command or endpoint, with {src} lines "
                    "of product source."),
    "feature_big": ("新能力：改动了 {src} 行产品源码。",
                    "A new capability: {src} lines of product source."),
    "feature_small": ("新功能，但未触及公共接口，产品源码改动不大（{src} 行）。",
                      "A feature that touches no public interface, with a modest source change "
                      "({src} lines)."),
    "feature_aux": ("新功能仅涉及工具、示例、基准或构建文件，不在产品源码中。",
                    "The feature touches only tooling, examples, benchmarks or build files."),
    "improve": ("标题表明是对已有功能的改进。", "The title reads as an improvement to existing "
                "behaviour."),
    "defect": ("修复标题指出运行时代码中的崩溃、数据丢失或并发类缺陷。",
               "A fix whose title names a crash, data-loss or concurrency defect in runtime code."),
    "bugfix": ("普通缺陷修复，未命中高重要度规则。", "A bug fix that meets no high rule."),
    "revert": ("回滚了「{inner}」，被回滚的改动本身不属于高重要度。",
               "It reverts \"{inner}\", a change these rules do not grade high."),
    "revert_high": ("回滚了「{inner}」，被回滚的改动本身属于高重要度：{why}",
                    "It reverts \"{inner}\", itself a high-importance change: {why}"),
    "ci_build": ("CI 或构建流水线改动。", "A CI or build pipeline change."),
    "deps": ("依赖版本更新。", "A dependency update."),
    "refactor": ("内部重构。", "An internal refactor."),
    "perf": ("性能相关改动。", "A performance change."),
    "config": ("配置改动。", "A configuration change."),
    "chore_big": ("较大的维护性改动，按内部重构对待。",
                  "A large chore, graded as an internal refactor."),
    "chore_tested": ("标题未说明改动类型，但产品源码与测试一同改动，按行为变更对待。",
                     "The title does not say what kind of change this is, but product source "
                     "changes together with its tests: graded as a behaviour change."),
    "change_big": ("标题未说明改动类型，改动了 {src} 行产品源码，按行为变更对待。",
                   "The title does not say what kind of change this is; it changes {src} lines "
                   "of product source, graded as a behaviour change."),
    "change_small": ("标题未说明改动类型，产品源码改动较小（{src} 行）。",
                     "The title does not say what kind of change this is; the product source "
                     "change is small ({src} lines)."),
    "chore": ("小型维护性改动。", "A small maintenance change."),
    # summary: what changed, where, and the tests
    "sum_what": ("{kind}：{what}。", "{kind}: {what}."),
    "sum_files": ("{kind}：改动 {files}。", "{kind}: edits {files}."),
    "sum_format": ("{kind}：仅调整 {where} 的格式或注释，行为不变。",
                   "{kind}: reformats {where} (layout or comments only); behaviour is "
                   "unchanged."),
    "sum_renames": ("{kind}：重命名 {pairs}，行为不变。",
                    "{kind}: renames {pairs}; behaviour is unchanged."),
    "sum_empty": ("{kind}：提交不含文件改动。", "{kind}: the commit changes no files."),
    "sum_where_one": ("改动集中在 {path}（+{add}/−{dele}）。",
                      "The change is in {path} (+{add}/−{dele})."),
    "sum_where": ("主要改动在 {path}（+{add}/−{dele}），共 {n} 个文件。",
                  "Mostly in {path} (+{add}/−{dele}), {n} files in all."),
    "sum_more": ("等 {n} 个文件", "and {n} more files"),
    "sum_tests_new": ("新增测试文件 {paths}。", "Adds the test file {paths}."),
    "sum_tests_new_many": ("新增测试文件 {paths}。", "Adds the test files {paths}."),
    "sum_tests_cases": ("测试改动：{path} 中新增用例 {names}。",
                        "Tests changed in {path}, with new cases {names}."),
    "sum_tests_changed": ("测试改动：{paths}。", "Tests changed in {paths}."),
    "area_note": ("{n} 个文件，+{add}/−{dele}{names}", "{n} files, +{add}/−{dele}{names}"),
    "area_note_one": ("1 个文件，+{add}/−{dele}{names}", "1 file, +{add}/−{dele}{names}"),
    # insights
    "in_migration": ("通过迁移 {path} 改变持久化数据模型。",
                     "Changes the persisted data model through the migration {path}."),
    "in_interface": ("改变了公共接口：{what}。", "Changes a public interface: {what}."),
    "in_large": ("跨 {dirs} 个顶层目录（{names}）同时改动，模块边界一起变化。",
                 "Spans {dirs} top-level directories ({names}): module boundaries move together."),
    "in_perf": ("声明为性能改动；本分析未测量实际效果。",
                "Declared as a performance change; this analysis does not measure the effect."),
    "in_perf_title": ("标题表明是性能改动；本分析未测量实际效果。",
                      "The title reads as a performance change; this analysis does not measure "
                      "the effect."),
    "in_sec_paths": ("涉及安全敏感路径：{paths}。", "Touches security-sensitive paths: {paths}."),
    "in_sec_declared": ("提交信息声明为安全相关改动。", "The message declares a security change."),
    "in_generated": ("包含生成或第三方代码（{paths}），应审查其来源而非产物。",
                     "Includes generated or vendored files ({paths}); review their sources."),
    # risks
    "rk_breaking": ("声明为破坏性变更：{what}的使用方需要同步调整。",
                    "Declared breaking: users of {what} must adapt."),
    "rk_removed": ("移除了公共{noun} {name}{callers}。",
                   "Removes the public {noun} {name}{callers}."),
    "rk_signature": ("{name} 的签名以不兼容的方式改变（{old} → {new}）{callers}。",
                     "{name} changes its signature incompatibly ({old} → {new}){callers}."),
    "rk_callers_kept": ("，本提交中仍在 {paths} 引用它", "; this commit still names it in {paths}"),
    "rk_callers_updated": ("，本提交已更新 {paths} 中的调用", "; callers updated here: {paths}"),
    "rk_callers_none": ("，本提交中没有调用方，外部调用方将失效",
                        "; no caller in this commit, so callers elsewhere will break"),
    "rk_iface_removed": ("移除了{noun} {name}（{path}），仍在使用它的用户会出错。",
                         "Removes the {noun} {name} ({path}); users who still rely on it will "
                         "fail."),
    "rk_default": ("{name} 的默认值由 {old} 改为 {new}（{path}），依赖旧值的用户会看到新行为。",
                   "The default of {name} changes from {old} to {new} ({path}); users relying "
                   "on it get new behaviour."),
    "rk_migration": ("迁移 {path} 修改存储结构，需确认执行顺序与回滚方案。",
                     "The migration {path} changes stored data; check its order and rollback."),
    "rk_security": ("安全敏感代码 {path} 被修改。", "Security-sensitive code changed in {path}."),
    "rk_revert": ("回滚了「{inner}」，依赖它的代码可能失效。",
                  "Reverts \"{inner}\"; code built on it may break."),
    "rk_untested": ("改动 {lines} 行代码却未改动测试。",
                    "{lines} code lines changed without tests."),
    "rk_dep_major": ("{name} 跨主版本升级（{old} → {new}，{path}），可能带来不兼容变化。",
                     "{name} crosses a major version ({old} → {new}) in {path}; expect breaking "
                     "changes."),
    "rk_dep_new": ("新增依赖 {name}（{path}）。", "Adds the dependency {name} in {path}."),
    "rk_deps": ("{path} 中的依赖版本变化（{names}），行为可能随之改变。",
                "Dependency versions change in {path} ({names}); behaviour may change with them."),
    "rk_incomplete": ("文件列表不完整，本分析只覆盖已列出的文件。",
                      "The file list is incomplete; this analysis covers only the listed files."),
    "rk_unreadable": ("{n} 个文件的差异无法读取，本分析只基于其余文件。",
                      "Diffs of {n} file(s) could not be read; this analysis rests on the rest."),
    # recommendations: each names a file or symbol of the commit
    "rc_removed_kept": ("更新 {paths} 中对 {name} 的剩余引用。",
                        "Update the remaining uses of {name} in {paths}."),
    "rc_removed": ("发布前在本提交之外查找 {name} 的调用方。",
                   "Search for callers of {name} outside this commit before release."),
    "rc_signature": ("检查本提交未改到的 {name} 调用方。",
                     "Check the callers of {name} that this commit does not touch."),
    "rc_default": ("在发布说明中写明 {name} 的新默认值 {new}。",
                   "Note the new default of {name} ({new}) in the release notes."),
    "rc_migration": ("审查迁移 {path} 及其回滚。",
                     "Review the migration in {path} and its rollback."),
    "rc_security": ("请熟悉安全的同事审查 {path} 的改动。",
                    "Have someone who owns security review the changes in {path}."),
    "rc_breaking": ("为 {what} 的破坏性变更写明升级说明。",
                    "Document the upgrade path for the breaking change to {what}."),
    "rc_revert": ("确认基于被回滚改动的代码仍可工作，从 {path} 查起。",
                  "Check that code built on the reverted change still works, starting at {path}."),
    "rc_untested": ("为 {target} 补充测试。", "Add tests covering {target}."),
    "rc_dep_major": ("阅读 {name} 从 {old} 到 {new} 的变更日志。",
                     "Read the changelog of {name} from {old} to {new}."),
    "rc_dep_new": ("确认新依赖 {name} 的许可证与维护状况。",
                   "Check the licence and upkeep of the new dependency {name}."),
    "rc_deps": ("阅读 {names} 的变更日志。", "Read the changelogs of {names}."),
    "rc_ci": ("关注 {path} 接下来几次运行的结果。", "Watch the next runs of {path}."),
    "rc_largest": ("从改动最大的文件 {path}（+{add}/−{dele}）开始审查。",
                   "Start the review with {path} (+{add}/−{dele}), the largest change."),
}  # fmt: skip


def t(lang: Language, key: str, **values: Any) -> str:
    zh, en = TEXT[key]
    return (zh if lang == "zh" else en).format(**values)


def label(lang: Language, kind: str) -> str:
    zh, en = KIND_LABELS[kind]
    return zh if lang == "zh" else en


def join(lang: Language, items: list[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(items)
