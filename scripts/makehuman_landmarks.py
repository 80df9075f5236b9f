"""Find the 68 iBUG landmarks on MakeHuman's hm08 head: the table in synth/register.py.

The registration of MakeHuman's head onto ICT-FaceKit's needs the same facial points on both
meshes. ICT-FaceKit lists its landmark vertices; MakeHuman does not, so this script renders the
hm08 head frontally with several of its CC0 skins, lets synthmarks' released landmark model find
the 68 points in each render, takes the per-point median over skins and casts it back onto the
mesh (triangle + barycentric weights). Run once; its output is pasted into
``register.MH_LANDMARKS``. Usage:

    python scripts/makehuman_landmarks.py [--assets DIR] [--sheet out.png]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from synthmarks import Landmarker
from synthmarks.synth.assets import find_assets
from synthmarks.synth.gl import create_context
from synthmarks.synth.makehuman import read_obj

SKINS = (
    "young_lightskinned_female_diffuse2",
    "young_lightskinned_male_diffuse",
    "middleage_lightskinned_male_diffuse",
    "middleage_darkskinned_female_diffuse",
    "old_lightskinned_male_diffuse2",
    "young_darkskinned_male_diffuse",
)
VS = """
#version 330
uniform mat4 mvp;
in vec3 in_pos; in vec2 in_uv;
out vec2 v_uv; out vec3 v_pos;
void main() { v_uv = in_uv; v_pos = in_pos; gl_Position = mvp * vec4(in_pos, 1.0); }
"""
FS = """
#version 330
uniform sampler2D tex;
in vec2 v_uv; in vec3 v_pos;
layout(location = 0) out vec4 col;
layout(location = 1) out vec4 pos;
void main() { col = vec4(texture(tex, v_uv).rgb, 1.0); pos = vec4(v_pos, 1.0); }
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assets", default=None)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--sheet", default=None, help="write the renders with their points here")
    args = ap.parse_args()
    root = find_assets(args.assets)
    mh = read_obj(root / "makehuman/skins/basemesh/base_hm08.obj")
    body = np.isin(mh.tri_group, [mh.groups.index("body")])
    eyes = np.isin(mh.tri_group, [mh.groups.index(g) for g in ("helper-l-eye", "helper-r-eye")])
    head = mh.v[mh.tri_v].min(1)[:, 1] > 6.2  # above the neck (decimetres)
    tv = mh.tri_v[body & head]
    pos = mh.v[mh.tri_v[body & head]].reshape(-1, 3).astype(np.float32)
    uv = mh.vt[mh.tri_vt[body & head]].reshape(-1, 2).astype(np.float32)
    epos = mh.v[mh.tri_v[eyes]].reshape(-1, 3).astype(np.float32)
    euv = mh.vt[mh.tri_vt[eyes]].reshape(-1, 2).astype(np.float32)
    centre = np.array([0.0, 7.05, 0.0])
    n = args.size
    # orthographic, 2.6 dm wide, looking down -z
    half = 1.3
    mvp = np.array(
        [
            [1 / half, 0, 0, -centre[0] / half],
            [0, 1 / half, 0, -centre[1] / half],
            [0, 0, -0.2, 0],
            [0, 0, 0, 1],
        ],
        np.float32,
    )
    ctx = create_context()
    prog = ctx.program(vertex_shader=VS, fragment_shader=FS)
    prog["mvp"].write(mvp.T.tobytes())
    vbo = ctx.buffer(np.hstack([pos, uv]).tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f 2f", "in_pos", "in_uv")])
    evbo = ctx.buffer(np.hstack([epos, euv]).tobytes())
    evao = ctx.vertex_array(prog, [(evbo, "3f 2f", "in_pos", "in_uv")])
    eye = cv2.imread(str(root / "makehuman/proxies/eyes/materials/brownlight_eye.png"))[..., ::-1]
    etex = ctx.texture((eye.shape[1], eye.shape[0]), 3, np.ascontiguousarray(eye[::-1]).tobytes())
    col = ctx.texture((n, n), 4, dtype="f1")
    ptex = ctx.texture((n, n), 4, dtype="f4")
    fbo = ctx.framebuffer([col, ptex], ctx.depth_renderbuffer((n, n)))
    lm = Landmarker()
    pts3, sheet = [], []
    for name in SKINS:
        img = cv2.imread(str(root / f"makehuman/skins/textures/{name}.png"))[..., ::-1]
        tex = ctx.texture(
            (img.shape[1], img.shape[0]), 3, np.ascontiguousarray(img[::-1]).tobytes()
        )
        tex.use(0)
        fbo.use()
        fbo.clear(0.5, 0.5, 0.5, 1.0, depth=1.0)
        ctx.enable(ctx.DEPTH_TEST)
        vao.render()
        etex.use(0)
        evao.render()
        rgb = np.frombuffer(col.read(), np.uint8).reshape(n, n, 4)[::-1, :, :3].copy()
        xyz = np.frombuffer(ptex.read(), np.float32).reshape(n, n, 4)[::-1, :, :3].copy()
        ys, xs = np.nonzero(xyz.any(-1))
        # the face box: the head's width, from the brows to the chin (about 0.55 of its height)
        box = (
            xs.min() + 0.12 * np.ptp(xs),
            ys.min() + 0.3 * np.ptp(ys),
            xs.max() - 0.12 * np.ptp(xs),
            ys.min() + 0.88 * np.ptp(ys),
        )
        p2 = lm.predict(rgb, box)
        for _ in range(2):  # re-crop on the points found
            box = (*p2.min(0), *p2.max(0))
            p2 = lm.predict(rgb, box)
        p3 = np.array([xyz[int(round(y)), int(round(x))] for x, y in p2])
        p3[~p3.any(1)] = np.nan  # a point off the head (background) says nothing
        pts3.append(p3)
        tex.release()
        if args.sheet:
            vis = rgb[..., ::-1].copy()
            for x, y in p2:
                cv2.circle(vis, (int(round(x)), int(round(y))), 2, (0, 255, 0), -1)
            sheet.append(vis)
    P = np.nanmedian(np.array(pts3), 0)
    spread = np.nanmedian(np.linalg.norm(np.array(pts3) - P, axis=-1), 0)
    print(
        f"median spread over skins: {np.median(spread) * 100:.1f} mm (max {spread.max() * 100:.1f})"
    )
    # cast back onto the mesh: nearest point on the head's triangles
    from synthmarks.synth.geometry import closest_points

    tri = mh.v[tv]
    k, bary = closest_points(tri, P)
    tris = tv[k]
    print("MH_LANDMARKS = (")
    for t, (b0, b1, b2) in zip(tris, bary, strict=True):
        print(f"    ({t[0]}, {t[1]}, {t[2]}, {b0:.4f}, {b1:.4f}, {b2:.4f}),")
    print(")")
    if args.sheet:
        cv2.imwrite(args.sheet, np.hstack(sheet[:3]))


if __name__ == "__main__":
    main()
