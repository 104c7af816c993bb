"""The published pages in docs/: each is its lesson as it is now, with the real output of a run
on the full MNIST, and the README's figures are theirs.

Set MNIST_NPZ to a full mnist.npz to also rerun lessons 01-05 as scripts and compare what they
print with their pages (CI sets it when ../shared/mnist/mnist.npz exists; 06, 5 minutes, is left
to `python tools/render.py --data FILE --only 06_exercises.py`).
"""

import ast
import os
import re

import jupytext
import nbformat
import pytest
from conftest import (
    LESSONS,
    ROOT,
    exercise_table,
    lesson_env,
    number_after,
    picture,
    run,
    tensorflow_lines,
)
from render import normalise, page_of

MNIST_NPZ = os.environ.get("MNIST_NPZ")
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")


def page(lesson):
    return (ROOT / "docs" / lesson.replace(".py", ".md")).read_text(encoding="utf-8")


def body(text):
    """A page from its first code cell on: what comes from the lesson, and its outputs."""
    return text[text.index("```python\n") :]


def outputs_removed(text):
    text = re.sub(r"```text\n.*?```\n\n", "", text + "\n", flags=re.DOTALL)
    return re.sub(r"!\[[^]]*\]\([^)]*\)\n\n", "", text)


def page_output(text):
    """All that a page shows as text output, without TensorFlow's C++ start-up lines."""
    blocks = re.findall(r"```text\n(.*?)```", text, flags=re.DOTALL)
    lines = "".join(blocks).splitlines(keepends=True)
    return "".join(line for line in lines if not tensorflow_lines(line))


def test_every_lesson_has_a_page_and_nothing_else_does():
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert pages == [lesson.replace(".py", ".md") for lesson in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_page_is_its_lesson_as_it_is_now(lesson):
    """Every text and code cell of the lesson, in order, and nothing else but outputs: a page
    can't go stale without this failing. Render it again with tools/render.py."""
    lesson_page = page(lesson)
    nb = jupytext.read(ROOT / lesson)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert f"```python\n{cell.source}\n```" in lesson_page
    expected = body(page_of(lesson, nb, 0, {}))  # the lesson's page, with no outputs yet
    assert outputs_removed(body(lesson_page)) == expected + "\n"


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_page_shows_a_run_on_the_full_mnist(lesson):
    text = page(lesson)
    assert text.startswith(f"<!-- Made by tools/render.py from {lesson}")
    assert "run as a notebook on the full MNIST (60,000 training and 10,000 test digits)" in text
    assert "MNIST: 60000 training and 10000 test images\n" in page_output(text)
    assert "Traceback" not in page_output(text) and "NOTICE" not in page_output(text)


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_pages_figures_lie_beside_it_and_are_pictures(lesson):
    text = page(lesson)
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    stem = lesson.removesuffix(".py")
    assert links == [f"{stem}/figure_{i}.png" for i in range(1, len(links) + 1)]
    drawn = len(re.findall(r'show\(figure, "', (ROOT / lesson).read_text()))
    if lesson == "07_your_own_digits.py":  # a figure for each bundled image, then one more
        drawn = len(list((ROOT / "data" / "own_digits").iterdir())) + 1
    if lesson == "08_draw_a_digit.py":  # the screenshot of its page
        drawn = 1
    assert len(links) == drawn
    assert sorted(p.name for p in (ROOT / "docs" / stem).glob("*")) == sorted(
        link.split("/")[1] for link in links
    )
    for link in links:
        picture(ROOT / "docs" / link)


@pytest.mark.parametrize(
    "lesson", ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]
)
def test_the_training_lessons_match_the_video_on_full_mnist(lesson):
    """The video: about 99% on the training images and 98% on the test images after 5 epochs."""
    out = page_output(page(lesson))
    assert len(re.findall(r"^1875/1875 - ", out, flags=re.MULTILINE)) == 5
    assert 0.985 <= number_after("Final train accuracy:", out) < 0.995
    assert 0.975 <= number_after("Test accuracy:", out) < 0.985


def test_exercise_1_is_answered_by_the_setting_chosen_on_held_out_images():
    rows = exercise_table(page_output(page("06_exercises.py")))
    assert len(rows) == 9
    beating = [row for row in rows if row["test"] > 0.981]
    assert all(row["beats"] for row in beating)
    assert not any(row["beats"] for row in rows if row["test"] <= 0.981)
    # The choice, made on held-out images, names the setting that alone beats 98.1% on the test set.
    choice = (ROOT / "tools" / "README.md").read_text(encoding="utf-8")
    chosen, accuracy = re.search(r"^ *(\S.*?)\s{2,}([0-9.]+)\s+[0-9.]+ \*$", choice, re.M).groups()
    assert [row["setting"] for row in beating] == [f"{chosen}, 10 epochs"]
    assert 0.981 < float(accuracy) < 1


def output_block(path, command):
    text = (ROOT / path).read_text(encoding="utf-8")
    return re.search(rf"<!-- output of: {re.escape(command)} -->\n```text\n(.*?)```", text, re.S)[1]


def test_the_readmes_speed_is_the_benchmarks_output():
    bench = output_block(
        "benchmarks/README.md",
        "python benchmarks/bench_epoch.py --data mnist.npz --rounds 5 --end-to-end",
    )
    speedup = float(re.search(r"vs plain: ([0-9.]+)x faster", bench)[1])
    assert f"{speedup:.2f} times as fast" in " ".join(README.split())
    assert f"快 {speedup:.2f} 倍" in README_ZH
    assert "largest loss difference: 0\n" in bench


def test_the_readmes_tables_are_the_benchmarks_outputs():
    """The 07 table's counts, 08's time on screen, 09's table and the marks that are no digit:
    each as the benchmark printed it in benchmarks/README.md."""
    photos = output_block(
        "benchmarks/README.md",
        "python benchmarks/accuracy_own_digits.py --own-digits ../shared/own_digits",
    )
    for readme, section in [
        (README, "## Your own digits (07)"),
        (README_ZH, "## 读你自己写的数字（07）"),
    ]:
        table = readme.split(section)[1].split("\n## ")[0]
        rows = [
            line.split(" | ") for line in table.splitlines() if re.match(r"\| \D.* \| \d", line)
        ]
        assert len(rows) == 4
        for row in rows:
            count, naive, prepared = (int(cell.strip(" |").replace(",", "")) for cell in row[1:4])
            assert re.search(rf"^.* {count} +{naive} +[0-9.]+% +{prepared} ", photos, re.M), row
    on_screen = output_block("benchmarks/README.md", "python benchmarks/bench_page.py")
    p95 = re.search(r"p95 ([0-9.]+)", on_screen)[1]
    assert f"{p95} ms after the pen lifts" in README and f"抬笔后 {p95} ms" in README_ZH
    marks = output_block("benchmarks/README.md", "python benchmarks/not_digits.py")
    counts = dict(re.findall(r"^  (no digit|not sure|read as a digit) +(\d+)", marks, re.M))
    caught = int(counts["no digit"]) + int(counts["not sure"])
    assert f"{caught} are caught and {counts['read as a digit']} are read" in " ".join(
        README.split()
    )
    assert f"挡住了 {caught} 个，另外 {counts['read as a digit']} 个" in README_ZH
    teach = output_block("benchmarks/README.md", TEACH_COMMAND)
    for readme in (README, README_ZH):
        assert teach_rows(readme) == teach_rows_of_benchmark(teach)


TEACH_COMMAND = (
    "python benchmarks/bench_teach.py --data ../shared/mnist/mnist.npz "
    "--writers ../shared/writers/qmnist-train-labels.tsv.gz"
)


def teach_rows(readme):
    """The 09 table of a README, a tuple of its cells for each k."""
    heading = "## Teach it your hand (09)" if readme is README else "## 让模型学会你的笔迹（09）"
    table = readme.split(heading)[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if re.match(r"\| \d+ \|", line)]
    rows = [row.replace(" 至 ", " to ").replace("%，", "%, ") for row in rows]  # the Chinese one's
    return [tuple(cell.strip() for cell in row.strip("| ").split(" | ")) for row in rows]


def teach_rows_of_benchmark(output):
    """The same rows, from bench_teach.py's output, for the way lesson 09 saves (BEST_WAY): k,
    errors before (median, mean), after (median, mean), MNIST's change (lowest to highest), s."""
    lesson = (ROOT / "09_teach_your_handwriting.py").read_text(encoding="utf-8")
    best = re.search(r'^BEST_WAY = "(.+)"$', lesson, re.M)[1]
    percent, points = r" +([0-9.]+%)", r" +([+-][0-9.]+)"
    row = rf"^ *(\d+)  (.+?){percent * 2} +\S+{percent * 2} +\S+{points * 3} +([0-9.]+)$"
    rows = []
    for k, way, *cells in re.findall(row, output, re.M):
        median, mean, median_after, mean_after, lowest, _, highest, seconds = cells
        if way == best:
            rows.append(
                (
                    k,
                    f"{median}, {mean}",
                    f"{median_after}, {mean_after}",
                    f"{lowest} to {highest}",
                    seconds,
                )
            )
    return rows


def lesson_rows():
    table = README.split("## The lessons")[1].split("\n## ")[0]
    return {
        lesson: next(line for line in table.splitlines() if f"[`{lesson}`]" in line)
        for lesson in LESSONS
    }


def test_the_readme_lesson_table_gives_each_pages_numbers_and_run_time():
    rows = lesson_rows()
    for lesson in LESSONS:
        stem = lesson.removesuffix(".py")
        assert f"(docs/{stem}.md)" in rows[lesson], f"{lesson}: no link to its page"
        run_time = re.search(r"Run time: ([0-9.]+ (?:s|min))\.", page(lesson)).group(1)
        assert f"run: {run_time}" in rows[lesson], f"{lesson}: the table should say {run_time}"
    for lesson in ["02_sequential_model.py", "03_sequential_add.py", "04_functional_model.py"]:
        out = page_output(page(lesson))
        train, test = (
            number_after("Final train accuracy:", out),
            number_after("Test accuracy:", out),
        )
        assert f"train {train:.4f}, test {test:.4f}" in rows[lesson]
    best = max(row["test"] for row in exercise_table(page_output(page("06_exercises.py"))))
    assert f"{best:.4f} test accuracy" in rows["06_exercises.py"]


def test_the_readme_first_screen_has_the_install_the_run_the_lessons_and_a_figure():
    first_screen = "\n".join(README.splitlines()[:50])
    figures = re.findall(r"!\[[^]]*\]\((docs/[^)]+\.png)\)", first_screen)
    assert figures and all((ROOT / figure).exists() for figure in figures)
    assert "pip install -r requirements.txt" in first_screen
    assert "python 02_sequential_model.py" in first_screen
    assert all(f"(docs/{lesson.removesuffix('.py')}.md)" in first_screen for lesson in LESSONS)


def test_the_readmes_are_read_in_five_minutes():
    """At most 150 lines and 1,500 words (as `wc -w` counts them); the Chinese one no longer."""
    assert len(README.splitlines()) <= 150 and len(README.split()) <= 1500
    assert len(README_ZH.splitlines()) <= 150


def test_both_readmes_link_the_video_the_chinese_one_its_bilingual_repost_first():
    youtube = "https://www.youtube.com/watch?v=pAhPiF3yiXI"
    bilibili = "https://www.bilibili.com/video/BV1em4y1U7ib?p=3"  # part 3 of the repost
    for readme in (README, README_ZH):
        first = "\n".join(readme.splitlines()[:12])
        assert f"]({youtube})" in first and f"]({bilibili})" in first
    assert README_ZH.index(bilibili) < README_ZH.index(youtube)


def test_the_chinese_readme_has_chinese_table_headers_and_no_space_beside_its_links():
    """No English header in a table, and no space between Chinese text and a link whose own text
    is Chinese (before Latin text a space stays, as usual)."""
    headers = [
        line
        for line, below in zip(README_ZH.splitlines(), README_ZH.splitlines()[1:])
        if line.startswith("| ") and below.startswith("|---")
    ]
    assert len(headers) >= 5
    for header in headers:
        cells = [cell.strip() for cell in header.strip("|").split("|")]
        assert all(re.search(r"[\u4e00-\u9fff]", cell) for cell in cells), header
    # A link whose text ends in Chinese, then a space and Chinese; or the other way round.
    assert not re.search(r"[\u4e00-\u9fff]\]\([^)]*\) [\u4e00-\u9fff]", README_ZH)
    assert not re.search(r"[\u4e00-\u9fff] \[[\u4e00-\u9fff]", README_ZH)
    assert re.search(r"[\u4e00-\u9fff]\]\(", README_ZH)  # there are such links


def test_pytest_prints_why_it_skips():
    settings = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    addopts = re.search(r'^addopts = "(.*)"$', settings, re.M)[1].split()
    assert "-rs" in addopts


@pytest.mark.skipif(
    not MNIST_NPZ, reason="no full MNIST to rerun on: set MNIST_NPZ=/path/to/mnist.npz"
)
@pytest.mark.parametrize("lesson", LESSONS[:5])
def test_a_fresh_run_prints_what_its_page_shows(lessons_folder, tmp_path, lesson):
    """A script run on the full MNIST prints what the notebook printed when the page was made,
    timings aside; a script also says where it saved each figure."""
    env = lesson_env(KERAS_HOME=str(tmp_path))
    result = run(lessons_folder / lesson, "--data", MNIST_NPZ, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    fresh = re.sub(r"^Figure saved: .*\n", "", result.stdout, flags=re.MULTILINE)
    assert normalise(fresh) == normalise(page_output(page(lesson)))
    if lesson == "02_sequential_model.py":
        assert number_after("Test accuracy:", fresh) >= 0.975


def test_troubleshooting_in_both_languages_names_where_each_problem_comes_from():
    section = README.split("## Troubleshooting")[1].split("\n## ")[0]
    table = [line for line in section.splitlines() if line.startswith("| ")]
    english = table[1:]  # under the header
    zh_section = README_ZH.split("## 常见问题")[1].split("\n## ")[0]
    chinese = [line for line in zh_section.splitlines() if line.startswith("| ")][1:]
    assert len(english) == len(chinese) == 7
    # One table in each README, the same sources in the same order, in its own language.
    assert [row.split(" | ")[-1] for row in chinese] == [row.split(" | ")[-1] for row in english]
    assert all(re.search(r"[\u4e00-\u9fff]", row.split(" | ")[1]) for row in chinese)
    for row in english[:-1]:  # the last, the start-up lines, is not a problem
        assert re.search(r"\[#\d+\]\(https://github\.com/[\w.-]+/[\w.-]+/issues/\d+\)", row), row
    for needed in ["No matching distribution found", "DLL load failed", "tensorflow-metal"]:
        assert needed in section and needed in "".join(chinese)
    assert "CERTIFICATE_VERIFY_FAILED" in section and "TF_USE_LEGACY_KERAS" in section


def commands(markdown):
    """Each command of a README's bash blocks, its comment left out."""
    blocks = re.findall(r"```bash\n(.*?)```", markdown, flags=re.DOTALL)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]


def figures(markdown):
    """Every number with a decimal point or a thousands comma that a README gives."""
    numbers = r"(?<![\w.])\d+(?:,\d{3})*\.\d+(?!\d)|(?<![\w.])\d{1,3}(?:,\d{3})+(?!\d)"
    return set(re.findall(numbers, markdown))


def test_the_readmes_link_each_other_and_give_the_same_commands_and_numbers():
    assert "(README.zh-CN.md)" in "\n".join(README.splitlines()[:5])
    assert "(README.md)" in "\n".join(README_ZH.splitlines()[:5])
    # What only a learner in China needs stands in a section of its own.
    china = README_ZH.split("## 在中国")[1].split("\n## ")[0]
    assert "pip install -i " in china and "global.index-url" in china and "Colab" in china
    rest = README_ZH.replace(china, "")
    assert commands(README) == commands(rest)
    assert figures(README) == figures(rest)
    links = set(re.findall(r"\]\(((?:docs|data|tools|benchmarks)/[^)]+)\)", README))
    assert links == set(re.findall(r"\]\(((?:docs|data|tools|benchmarks)/[^)]+)\)", rest))


def test_the_version_table_covers_every_release_of_the_matrix_and_requirements_follow_it():
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    wheels = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "WHEELS"
    )
    # The table was made on Python 3.11: every release with a wheel for it.
    releases = [
        release for release, (oldest, newest) in wheels.items() if oldest <= (3, 11) <= newest
    ]
    tests_readme = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")
    section = tests_readme.split("## Versions")[1].split("\n## ")[0]
    assert "Python 3.11" in section
    rows = [line.split(" | ") for line in section.splitlines() if re.match(r"\| \d", line)]
    assert [row[0].removeprefix("| ") for row in rows] == releases
    passing = [row for row in rows if row[4] == "all pass"]
    oldest = passing[0][0].removeprefix("| ")
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"tensorflow>={'.'.join(oldest.split('.')[:2])}\n" in requirements
    for column, package in [(2, "numpy"), (3, "matplotlib")]:
        least = min((row[column] for row in passing), key=lambda v: [int(p) for p in v.split(".")])
        assert f"{package}>={'.'.join(least.split('.')[:2])}\n" in requirements


def stray_breaks(markdown):
    """Line breaks inside a paragraph, next to Chinese: a reader sees each as a space, which
    Chinese has none of. Code blocks, lists, tables and headings aside."""
    count, fenced = 0, False
    lines = markdown.split("\n")
    for line, next_line in zip(lines, lines[1:]):
        if line.startswith("```"):
            fenced = not fenced
        if fenced or not line.strip() or not next_line.strip():
            continue
        if re.match(r"\s*(?:[-*+] |\d+\. |\||#|>|<|```)", next_line):
            continue
        if line.startswith(("|", "#", "<")):
            continue
        count += not (line.rstrip()[-1] + next_line.strip()[0]).isascii()
    return count


def test_chinese_reads_without_stray_spaces():
    """In the pages, the notebooks and README.zh-CN.md, each Chinese paragraph is one line (the
    lessons' .py files wrap theirs; tools/make_notebooks.py and tools/render.py join them)."""
    assert stray_breaks("中文一行，\n下一行。\n\n- 列表\n- 项目") == 1
    found = {}
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.zh-CN.md"]:
        found[path.name] = stray_breaks(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4).cells
        found[path.name] = sum(stray_breaks(c.source) for c in cells if c.cell_type == "markdown")
    assert {name: count for name, count in found.items() if count} == {}


def anchor(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("readme", ["README.md", "README.zh-CN.md"])
def test_every_link_to_a_heading_goes_somewhere(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    anchors = {anchor(heading) for heading in re.findall(r"^#+ (.+)$", text, re.M)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert links and [link for link in links if link not in anchors] == []
