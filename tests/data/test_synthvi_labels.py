import numpy as np

import fastreid_ext  # noqa: F401  (compat shims first)
from fastreid_ext.data.check import pair_disagreement
from fastreid_ext.data.synthvi import ATTRIBUTE_NAMES
from fastreid_ext.data.synthvi.camera import INFRARED, VISIBLE, draw_camera
from fastreid_ext.data.synthvi.labels import BACK, FRONT, SIDE, camera_label, camera_labels, seen_attributes
from fastreid_ext.data.synthvi.person import draw_people

GLASSES, BACKPACK = ATTRIBUTE_NAMES.index("glasses"), ATTRIBUTE_NAMES.index("backpack")
SYSU_CAMERAS = ((1, VISIBLE), (2, VISIBLE), (3, INFRARED), (4, VISIBLE), (5, VISIBLE), (6, INFRARED))


def _cameras(specs, seed=0):
    return [draw_camera(camid, modality, camid, seed, size=(16, 8)) for camid, modality in specs]


def test_what_each_view_and_modality_hides():
    worn = np.ones(8, np.uint8)
    hidden = {(view, modality): set(np.flatnonzero(seen_attributes(worn, view, modality) == 0))
              for view in (FRONT, BACK, SIDE) for modality in (VISIBLE, INFRARED)}
    assert hidden == {(FRONT, VISIBLE): {BACKPACK}, (BACK, VISIBLE): {GLASSES}, (SIDE, VISIBLE): set(),
                      (FRONT, INFRARED): {BACKPACK, GLASSES}, (BACK, INFRARED): {GLASSES},
                      (SIDE, INFRARED): {GLASSES}}
    assert not seen_attributes(np.zeros(8, np.uint8), SIDE, VISIBLE).any()  # nothing is added


def test_labels_are_seen_attributes_up_to_rare_slips():
    people, cameras = draw_people(200, seed=0), _cameras(SYSU_CAMERAS)
    table = camera_labels(people, cameras, np.ones((200, 6), bool), seed=0)
    assert sorted(table.vectors) == sorted((cam, pid) for cam in range(1, 7) for pid in range(1, 201))
    explained = 0
    for person in people:
        for camera in cameras:
            label = table.vectors[camera.camid, person.pid]
            views = [seen_attributes(person.attributes, v, camera.modality) for v in (FRONT, BACK, SIDE)]
            explained += any(np.array_equal(label, v) for v in views)
            np.testing.assert_array_equal(label, camera_label(person, camera, seed=0))
    assert explained >= 0.95 * 200 * 6
    wearers = [p.pid for p in people if p.attributes[GLASSES]]
    infrared_glasses = [table.vectors[cam, pid][GLASSES] for cam in (3, 6) for pid in wearers]
    visible_glasses = [table.vectors[cam, pid][GLASSES] for cam in (1, 2, 4, 5) for pid in wearers]
    assert np.mean(infrared_glasses) < 0.05 < 0.3 < np.mean(visible_glasses)


def test_cameras_disagree_on_a_realistic_share_of_identities():
    for seed in (0, 1):
        people = draw_people(150, seed)
        present = np.random.default_rng(seed).random((150, 6)) < 0.8
        table = camera_labels(people, _cameras(SYSU_CAMERAS, seed), present, seed)
        counts = pair_disagreement(table.vectors)
        differ, shared = sum(d for d, _ in counts.values()), sum(s for _, s in counts.values())
        assert 0.10 <= differ / shared <= 0.35, (seed, differ, shared)
        assert all(shared_ids > 0 for _, shared_ids in counts.values())


def test_a_camera_number_shared_by_two_modalities_gets_one_row():
    people = draw_people(3, seed=0)
    cameras = _cameras(((1, VISIBLE), (1, INFRARED)))
    present = np.array([[True, True], [False, True], [True, False]])
    table = camera_labels(people, cameras, present, seed=0)
    assert sorted(table.vectors) == [(1, 1), (1, 2), (1, 3)]
    for pid, camera in ((1, cameras[0]), (2, cameras[1]), (3, cameras[0])):
        np.testing.assert_array_equal(table.vectors[1, pid], camera_label(people[pid - 1], camera, seed=0))


def test_labels_follow_the_seed():
    people, cameras = draw_people(40, seed=0), _cameras(SYSU_CAMERAS)
    present = np.ones((40, 6), bool)
    first, again = (camera_labels(people, cameras, present, seed=0).vectors for _ in range(2))
    other = camera_labels(people, cameras, present, seed=1).vectors
    assert all(np.array_equal(first[key], again[key]) for key in first)
    assert any(not np.array_equal(first[key], other[key]) for key in first)
