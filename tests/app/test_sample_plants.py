"""The sample plants, read one way for the window, the demo and the smoke test."""
import pytest

from rca_app.app import sample_plants


def test_every_sample_plant_opens_with_its_incident():
    names = sample_plants.sample_plant_names()
    assert sample_plants.DEFAULT_SAMPLE_PLANT in names and len(names) >= 3
    for name in names:
        plant = sample_plants.open_sample_plant(name)
        assert plant.layout.target and plant.data_path.is_file()
        assert plant.anomaly and len(plant.anomaly) == 2 and plant.root_causes
        assert plant.title == name.replace("_", " ")


def test_load_sample_plant_prepares_the_table():
    plant, data = sample_plants.load_sample_plant()
    assert plant.name == sample_plants.DEFAULT_SAMPLE_PLANT
    assert data.layout.target == plant.layout.target and data.n_rows > 1000


def test_unknown_plant_lists_the_available_ones():
    with pytest.raises(FileNotFoundError, match="injection_moulding"):
        sample_plants.open_sample_plant("no_such_plant")


def test_a_plant_without_truth_has_no_incident(tmp_path, monkeypatch, plant):
    import shutil

    folder = tmp_path / "sample_plants" / "bare"
    folder.mkdir(parents=True)
    shutil.copy(plant / "layout.toml", folder / "layout.toml")
    monkeypatch.setattr("rca_app.resources.sample_plants_dir", lambda: tmp_path / "sample_plants")
    bare = sample_plants.open_sample_plant("bare")
    assert bare.truth == {} and bare.anomaly is None and bare.reference is None and bare.root_causes == []
