"""Seeds from anywhere: ``seed_dirs`` (folders of ``<task_id>.dsl``; ``builtin`` the built-in library)
starts a run's buffer, and imported public solvers (``codeit import-solvers``) seed ``codeit run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeit.buffer.store import ExperienceStore
from codeit.cli import main
from codeit.search.initial import BUILTIN, load_seed_programs, load_seed_set
from codeit.seeds import load_seeds


def _solver_file(seeds) -> str:
    """Seed programs written as arc-dsl's solvers.py writes them."""
    out = ["from dsl import *", "from constants import *", ""]
    for s in seeds:
        out.append(f"def solve_{s.task_id}(I):")
        out += ["    " + line for line in s.text.strip().splitlines()]
        out += ["    return O", "", ""]
    return "\n".join(out)


@pytest.fixture
def imported(tmp_path) -> tuple[Path, list]:
    """Three solvers imported with ``codeit import-solvers`` into a folder of their own."""
    chosen = load_seeds()[:3]
    solvers = tmp_path / "solvers.py"
    solvers.write_text(_solver_file(chosen))
    folder = tmp_path / "imported"
    assert main(["import-solvers", str(solvers), "--out", str(folder)]) == 0
    return folder, chosen


def test_folders_load_in_order_and_a_program_once(imported, tmp_path):
    folder, chosen = imported
    builtin = load_seeds()
    assert [s.task_id for s in load_seed_programs([])] == [s.task_id for s in builtin]
    assert [s.task_id for s in load_seed_programs([str(folder)])] == [s.task_id for s in chosen]
    # The imported solvers are the built-in seeds' programs: kept once, from the first folder.
    both = load_seed_programs([BUILTIN, str(folder)])
    assert len(both) == len(builtin) and all(s.path.parent != folder for s in both)
    other = tmp_path / "other"
    other.mkdir()
    (other / f"{chosen[0].task_id}.dsl").write_text("O = rot90(I)\n")  # a second program for a task
    more = load_seed_programs([str(folder), str(other)])
    assert [s.task_id for s in more] == [s.task_id for s in chosen] + [chosen[0].task_id]
    with pytest.raises(NotADirectoryError):
        load_seed_programs([str(tmp_path / "nowhere")])


def test_seeds_of_tasks_outside_the_seed_tasks_are_left_out(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "notatask.dsl").write_text("O = rot90(I)\n")
    seeds, tasks = load_seed_set([str(folder), BUILTIN], "arc1/training")
    assert "notatask" not in {s.task_id for s in seeds} and len(seeds) == len(load_seeds())


def test_import_solvers_points_at_the_setting_that_exists(capsys):
    with pytest.raises(SystemExit):
        main(["import-solvers", "--help"])
    text = capsys.readouterr().out
    assert "extra_seeds" not in text and "seed_dirs" in text


def test_a_run_seeded_from_imported_solvers(imported, tmp_path, capsys):
    """``codeit run --set seed_dirs=[FOLDER]``: the buffer starts from the imported solvers alone,
    and mutation grows from them (the mutation-only loop: no policy, seconds)."""
    folder, chosen = imported
    run_dir = tmp_path / "run"
    code = main(["run", str(run_dir), "--preset", "tiny", "--set", f"seed_dirs=[{folder}]",
                 "--set", "initial_mutants=12", "--set", "meta_iterations=1", "--set", "max_search_tasks=2",
                 "--set", "sampling.samples_per_task=4", "--set", "ablation.mutation_only=true",
                 "--set", "execution.threads=1"])
    assert code == 0, capsys.readouterr().err
    store = ExperienceStore(run_dir / "experience.db")
    rows = list(store.iter_experiences())
    store.close()
    seeds = [e for e in rows if e.origin == "seed"]
    assert sorted(e.task_id for e in seeds) == sorted(s.task_id for s in chosen)
    assert {e.program.strip() for e in seeds} == {s.text.strip() for s in chosen}
    mutants = [e for e in rows if e.origin == "mutation"]
    assert mutants and {e.task_id for e in mutants} <= {s.task_id for s in chosen}
    assert f"seed_dirs:\n- {folder}" in (run_dir / "config.yaml").read_text()


def test_pretraining_grows_its_corpus_from_the_seed_folders(imported, tmp_path, monkeypatch):
    import codeit.synth as synth
    from codeit.train.pretrain import PretrainConfig, build_corpus

    folder, chosen = imported
    given = {}

    def fake_corpus(config, load_source, *, seeds=None, **kwargs):
        given["seeds"] = seeds
        raise RuntimeError("stop here")

    monkeypatch.setattr(synth, "generate_corpus", fake_corpus)
    with pytest.raises(RuntimeError, match="stop here"):
        build_corpus(PretrainConfig(seed_dirs=[str(folder)]), tmp_path)
    assert [s.task_id for s in given["seeds"]] == [s.task_id for s in chosen]
    with pytest.raises(ValueError, match="seed_dirs"):
        PretrainConfig.from_dict({"seed_dirs": str(folder)})
