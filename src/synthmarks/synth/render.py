"""Rasterise a :class:`~synthmarks.synth.scene.Scene` with OpenGL (moderngl, headless EGL).

One context per process, reused for every sample. A single pass renders colour, the Face
Synthetics class of every pixel (second render target) and depth (for landmark visibility) at
``supersample`` times the output size; colour is then area-averaged down, which antialiases.
All appearance is procedural in the fragment shader from per-sample uniforms and the
identity-free texture banks of :mod:`synthmarks.synth.textures`, so no texture is made per
sample on the CPU. On llvmpipe this costs a few milliseconds per face at 256x256; on a machine
with a GPU the same code runs on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from synthmarks.synth.gl import create_context
from synthmarks.synth.scene import M_BEARD, M_EYE, M_HAIR, M_HEAD, M_TEETH, HeadStatic, Mesh, Scene
from synthmarks.synth.textures import noise_bank, strand_bank

VERTEX_SHADER = """
#version 330
uniform mat4 proj;
in vec3 in_pos;
in vec3 in_nrm;
in vec3 in_obj;
in vec2 in_uv;
in float in_ao;
in float in_mat;
out float v_ao;
out vec3 v_pos;
out vec3 v_nrm;
out vec3 v_obj;
out vec2 v_uv;
flat out int v_mat;
void main() {
    v_pos = in_pos;
    v_nrm = in_nrm;
    v_obj = in_obj;
    v_uv = in_uv;
    v_ao = in_ao;
    v_mat = int(in_mat + 0.5);
    gl_Position = proj * vec4(in_pos, 1.0);
}
"""

_FS_HEADER = """
#version 330
in vec3 v_pos;
in vec3 v_nrm;
in vec3 v_obj;
in vec2 v_uv;
in float v_ao;
flat in int v_mat;
layout(location = 0) out vec4 f_col;
layout(location = 1) out vec4 f_seg;
uniform sampler2D tex_noise;
uniform sampler2D tex_strand;
uniform vec4 noise_off;
uniform vec3 key_dir, key_col, fill_dir, fill_col, sky_col, ground_col, head_up;
uniform float ambient, exposure;
// image-based light (synth v2): irradiance SH (already / pi), glossy map, rotation to the map
uniform int ibl;
uniform vec3 sh[9];
uniform mat3 env_rot;
uniform sampler2D tex_glossy;
// shadow map of the key light
uniform int shadows;
uniform sampler2DShadow tex_shadow;
uniform sampler2D tex_shadow_depth;  // the same map's depths, read raw by the occluder search
uniform mat4 light_mvp;
uniform float shadow_texel;
uniform float shadow_span_cm;  // the map's side and its depth range, in cm
uniform float key_tan;  // tangent of the key light's angular radius; 0: a point light
const float PI = 3.14159265;

vec3 view_normal(out vec3 V) {
    vec3 N = normalize(v_nrm);
    V = normalize(-v_pos);
    return dot(N, V) < 0.0 ? -N : N;
}

// Equirectangular lookup of a world direction (hdri.py's dirs_to_uv; textures are stored with
// the image's top row at v = 1).
vec2 env_uv(vec3 d) {
    float p = atan(d.x, -d.z);
    float t = acos(clamp(d.y, -1.0, 1.0));
    return vec2(p / (2.0 * PI) + 0.5, 1.0 - t / PI);
}

vec3 sh_irradiance(vec3 n) {
    return max(sh[0] * 0.282095 + sh[1] * 0.488603 * n.y + sh[2] * 0.488603 * n.z
        + sh[3] * 0.488603 * n.x + sh[4] * 1.092548 * n.x * n.y + sh[5] * 1.092548 * n.y * n.z
        + sh[6] * 0.315392 * (3.0 * n.z * n.z - 1.0) + sh[7] * 1.092548 * n.x * n.z
        + sh[8] * 0.546274 * (n.x * n.x - n.y * n.y), 0.0);
}

// A point of the unit disc: the i-th of n on a golden-angle spiral, turned by 'turn'.
vec2 disc_tap(int i, int n, float turn) {
    float a = float(i) * 2.39996323 + turn;
    return sqrt((float(i) + 0.5) / float(n)) * vec2(cos(a), sin(a));
}

// Fraction of the key light reaching this fragment. A point light: four bilinear (2x2 PCF)
// shadow-map taps. A light of angular radius r (percentage-closer soft shadows): an occluder
// d cm in front of the fragment casts a penumbra of radius d tan(r), so find the occluders'
// mean depth in a disc as wide as the widest penumbra (occluders up to 12 cm away), then
// filter the map over that penumbra; the taps turn per pixel, trading banding for noise.
float key_visibility(vec3 N) {
    if (shadows == 0) return 1.0;
    vec4 lp = light_mvp * vec4(v_pos + N * 0.12, 1.0);
    vec3 q = lp.xyz / lp.w * 0.5 + 0.5;
    if (q.x <= 0.0 || q.x >= 1.0 || q.y <= 0.0 || q.y >= 1.0) return 1.0;
    float z = q.z - 0.002;
    float s = 0.0;
    if (key_tan <= 0.0) {
        s += texture(tex_shadow, vec3(q.xy + vec2(-0.7, -0.7) * shadow_texel, z));
        s += texture(tex_shadow, vec3(q.xy + vec2(0.7, -0.7) * shadow_texel, z));
        s += texture(tex_shadow, vec3(q.xy + vec2(-0.7, 0.7) * shadow_texel, z));
        s += texture(tex_shadow, vec3(q.xy + vec2(0.7, 0.7) * shadow_texel, z));
        return s * 0.25;
    }
    float texel_cm = shadow_texel * shadow_span_cm;
    float turn = 6.2831853 * fract(52.9829189 * fract(dot(gl_FragCoord.xy,
        vec2(0.06711056, 0.00583715))));
    float search = clamp(12.0 * key_tan / texel_cm, 1.0, 40.0) * shadow_texel;
    float occ = 0.0, n_occ = 0.0;
    for (int i = 0; i < 16; i++) {
        float d = texture(tex_shadow_depth, q.xy + disc_tap(i, 16, turn) * search).r;
        if (d < z) { occ += d; n_occ += 1.0; }
    }
    if (n_occ == 0.0) return 1.0;
    float gap_cm = (z - occ / n_occ) * shadow_span_cm;
    float pen = clamp(gap_cm * key_tan / texel_cm, 0.7, 40.0) * shadow_texel;
    for (int i = 0; i < 24; i++)
        s += texture(tex_shadow, vec3(q.xy + disc_tap(i, 24, turn + 1.3) * pen, z));
    return s / 24.0;
}

// Key light (wrapped per channel for skin's subsurface look) with its shadow; then either the
// environment (SH diffuse + glossy reflection) or v1's fill, hemispheric ambient and rim.
vec3 shade(vec3 albedo, vec3 N, vec3 V, float spec_k, float shin, float ao, vec3 wrap) {
    vec3 L = normalize(key_dir);
    float ndl = dot(N, L);
    vec3 diff = max((vec3(ndl) + wrap) / (1.0 + wrap), 0.0);
    diff *= mix(vec3(1.0), diff, step(0.01, wrap.r));
    float vis = key_visibility(N);
    diff *= mix(0.0, 1.0, vis);
    vec3 H = normalize(L + V);
    float spec = spec_k * pow(max(dot(N, H), 0.0), shin) * (shin + 8.0) / 25.0 * step(0.0, ndl)
        * vis;
    ao *= v_ao;
    diff *= mix(1.0, v_ao, 0.6);
    vec3 col;
    if (ibl == 1) {
        vec3 irr = sh_irradiance(env_rot * N);
        vec3 R = reflect(-V, N);
        vec3 gl = texture(tex_glossy, env_uv(env_rot * R)).rgb;
        float fres = 0.04 + 0.96 * pow(1.0 - max(dot(N, V), 0.0), 5.0);
        col = albedo * (key_col * diff + irr * ao) + key_col * spec * ao
            + gl * spec_k * 4.0 * fres * ao;
    } else {
        vec3 amb = mix(ground_col, sky_col, 0.5 + 0.5 * N.y);
        vec3 fill = fill_col * max(dot(N, normalize(fill_dir)), 0.0);
        float rim = pow(1.0 - max(dot(N, V), 0.0), 3.0);
        col = albedo * (key_col * diff + fill * ao + ambient * amb * ao) + key_col * spec * ao;
        col += albedo * sky_col * rim * 0.15 * ambient;
    }
    return pow(max(col * exposure, 0.0), vec3(1.0 / 2.2));
}

void emit(vec3 col, float cls) {
    f_col = vec4(col, 1.0);
    f_seg = vec4(cls / 255.0, 0.0, 0.0, 1.0);
}
float cls_eye() { return v_obj.x < 0.0 ? 4.0 : 3.0; }
uniform int photoreal;  // 1 in the photoreal look (v2)
// Where the beard and stubble stop down the neck: gone 1.5 cm below beard_low (object space, cm;
// far below the head in the v1 look, which keeps its beard mask down to the collar);
// beard_density thins the whole beard (1 in v1)
uniform float beard_low, beard_density;
float beard_fade() { return smoothstep(beard_low - 1.5, beard_low, v_obj.y); }
"""

#: Skin of the face and head: procedural albedo from the atlas masks and noise banks.
FS_SKIN = (
    _FS_HEADER
    + """
uniform sampler2D tex_m1;
uniform sampler2D tex_m2;
uniform sampler2D tex_cls;
uniform vec3 skin_albedo;
uniform float redness, noise_amp, pores, freckles, blemishes, age, skin_spec, skin_rough;
uniform float lipstick, eyeshadow, eyeliner, blush, stubble;
uniform vec3 lip_col, shadow_col, brow_col, beard_col;
uniform float brow_thick, brow_density, brow_arch;
// synth v2: a baked MakeHuman skin (sRGB colour, relief in alpha) and its tone gain
uniform int skin_tex_on;
uniform sampler2D tex_skin;
uniform vec3 skin_gain;
uniform float bump, painted_brows;
void main() {
    vec3 V;
    vec3 N = view_normal(V);
    vec2 uv = v_uv;
    vec2 auv = vec2(uv.x * 0.5, uv.y);
    vec4 sk = vec4(0.0);
    if (skin_tex_on == 1) {
        sk = texture(tex_skin, auv);
        // bump mapping from the relief's screen-space derivatives (no tangents needed)
        float h = (sk.a - 0.5) * bump;
        vec3 dpx = dFdx(v_pos);
        vec3 dpy = dFdy(v_pos);
        vec3 r1 = cross(dpy, N);
        vec3 r2 = cross(N, dpx);
        float det = dot(dpx, r1);
        vec3 grad = sign(det) * (dFdx(h) * r1 + dFdy(h) * r2);
        N = normalize(abs(det) * N - grad);
    }
    vec4 m1 = texture(tex_m1, auv);
    vec4 m2 = texture(tex_m2, auv);
    ivec2 tc = ivec2(clamp(uv.x * 512.0, 0.0, 1023.0), clamp(uv.y * 512.0, 0.0, 511.0));
    float cls = floor(texelFetch(tex_cls, tc, 0).r * 255.0 + 0.5);
    vec4 nlo = texture(tex_noise, uv * 1.3 + noise_off.xy);
    vec4 nhi = texture(tex_noise, uv * 5.0 + noise_off.zw);
    vec4 nsp = texture(tex_noise, uv * 2.3 + noise_off.yx);
    vec3 albedo = skin_albedo;
    if (skin_tex_on == 1) {
        albedo = pow(sk.rgb, vec3(2.2)) * skin_gain;
    } else {
        albedo *= 1.0 + noise_amp * ((nlo.r - 0.5) * 2.2 + (nlo.g - 0.5) * 1.4
            + (nhi.g - 0.5) * 0.8);
        albedo *= 1.0 - pores * smoothstep(0.55, 0.85, nhi.b);
        vec3 red = albedo * vec3(1.18, 0.82, 0.84);
        albedo = mix(albedo, red,
            clamp(redness * (0.7 * m2.g + 0.6 * m2.b) + 0.25 * m1.r, 0.0, 1.0));
        albedo *= 1.0 - 0.18 * m2.r * (0.4 + age);
    }
    float face = step(uv.x, 1.0);
    albedo *= 1.0 - face * freckles * 0.45 * smoothstep(0.25, 0.7, nsp.a);
    float bl = face * blemishes * smoothstep(0.55, 0.9, nsp.b * nsp.a * 2.0);
    albedo = mix(albedo, albedo * vec3(1.2, 0.7, 0.7), bl);
    vec3 lip = albedo * vec3(0.92, 0.62, 0.62);
    albedo = mix(albedo, lip, m1.r * float(1 - skin_tex_on));
    albedo = mix(albedo, lip_col, lipstick * m1.r);
    albedo = mix(albedo, shadow_col, eyeshadow * m2.r);
    albedo = mix(albedo, albedo * vec3(1.15, 0.8, 0.82), blush * m2.g);
    albedo = mix(albedo, vec3(0.015), eyeliner * m2.a);
    float dots = smoothstep(0.5, 0.75, nhi.b);
    // photoreal: stubble only darkens (light stubble on darker skin is not seen)
    vec3 stubble_col = photoreal == 1 ? min(beard_col, albedo) : beard_col;
    albedo = mix(albedo, stubble_col,
        clamp(stubble * m1.a * beard_fade() * (0.35 + 0.6 * dots), 0.0, 0.9));
    // eyebrows: signed offset from the landmark line (cm, + above) and position t along it
    float d = (m1.g - 0.5) * 4.0;
    float t = m1.b * 1.5 - 0.25;
    float half_w = brow_thick * 0.42 * (1.0 - 0.55 * clamp(t, 0.0, 1.0));
    float centre = -half_w * 0.75 + brow_arch * 0.35 * sin(PI * clamp(t, 0.0, 1.0));
    float along = smoothstep(-0.12, 0.0, t) * (1.0 - smoothstep(0.95, 1.12, t));
    float across = 1.0 - smoothstep(half_w * 0.55, half_w, abs(d - centre));
    float s = texture(tex_strand, vec2(t * 3.0 + noise_off.x, d * 0.8)).r;
    float brow = face * along * across * painted_brows
        * smoothstep(1.0 - brow_density, 1.15 - brow_density, s + 0.25 * across);
    albedo = mix(albedo, brow_col, clamp(brow, 0.0, 1.0) * 0.92);
    if (brow > 0.5 && cls == 1.0) cls = v_obj.x < 0.0 ? 6.0 : 5.0;
    float spec_k = (0.02 + skin_spec * (0.04 + face * (0.06 * m2.b + 0.1 * m1.r)))
        * (0.6 + 0.8 * nhi.b);
    if (skin_tex_on == 1) {
        // oily T-zone (forehead, nose) glossier than the matte cheeks
        float tzone = face * max(m2.b, smoothstep(4.5, 7.0, v_obj.y)
            * (1.0 - smoothstep(3.0, 6.0, abs(v_obj.x))));
        spec_k = (0.02 + skin_spec * (0.04 + 0.1 * tzone + face * 0.1 * m1.r))
            * (0.7 + 0.6 * sk.a) * (1.0 - 0.5 * face * m2.g);
    }
    float shin = mix(60.0, 12.0, skin_rough);
    emit(shade(albedo, N, V, spec_k, shin, 1.0, vec3(0.35, 0.12, 0.08)), cls);
}
"""
)

#: Mouth socket, gums, tongue, teeth and eye sockets: darkened with depth into the head.
FS_INNER = (
    _FS_HEADER
    + """
uniform vec3 teeth_col;
void main() {
    vec3 V;
    vec3 N = view_normal(V);
    if (v_mat == 5) {
        float ao = clamp((v_obj.z - 6.0) / 4.0, 0.1, 1.0);
        emit(shade(teeth_col, N, V, 0.2, 50.0, ao, vec3(0.0)) * ao, 9.0);
    } else if (v_mat == 3) {
        emit(shade(vec3(0.35, 0.12, 0.1), N, V, 0.0, 10.0, 0.3, vec3(0.0)) * 0.4, cls_eye());
    } else {
        float ao = clamp((v_obj.z - 4.0) / 6.0, 0.05, 1.0);
        emit(shade(vec3(0.42, 0.12, 0.12), N, V, 0.15, 40.0, ao, vec3(0.0)) * ao, 9.0);
    }
}
"""
)

#: Eyeballs: the cornea sphere carries the iris and pupil around UV (0.5, 0.5).
FS_EYE = (
    _FS_HEADER
    + """
uniform vec3 iris_col, sclera_col;
uniform float pupil;
// synth v2: a MakeHuman iris texture, centred on the cornea's (0.5, 0.5)
uniform int iris_tex_on;
uniform sampler2D tex_iris;
uniform vec2 iris_centre;
uniform float iris_scale, iris_tex_lum;
void main() {
    vec3 V;
    vec3 N = view_normal(V);
    vec2 d = v_uv - 0.5;
    float r = length(d) / 0.095;
    float ang = atan(d.y, d.x);
    float fib = texture(tex_strand, vec2(ang / (2.0 * PI) * 3.0, r * 0.15)).r;
    vec3 iris = iris_col * (0.55 + 0.9 * fib);
    iris *= mix(1.0, 0.35, smoothstep(0.7, 1.0, r));
    iris = mix(iris, iris_col * 1.6, 0.25 * (1.0 - smoothstep(pupil, pupil + 0.35, r)));
    vec3 sclera = sclera_col * (0.92 + 0.15 * texture(tex_noise, v_uv * 3.0).g);
    sclera = mix(sclera, sclera * vec3(1.0, 0.8, 0.78), smoothstep(1.6, 3.5, r));
    vec3 albedo = r < pupil ? vec3(0.012)
        : (r < 1.0 ? iris : mix(iris * 0.5, sclera, smoothstep(1.0, 1.12, r)));
    if (iris_tex_on == 1) {
        // the texture's structure in the sample's iris colour (appearance.Iris); its pupil,
        // near black, stays dark; the procedural sclera beyond the limbus
        vec3 t = pow(texture(tex_iris, iris_centre + d * iris_scale).rgb, vec3(2.2));
        vec3 textured = iris_col * (dot(t, vec3(0.2126, 0.7152, 0.0722)) / iris_tex_lum);
        albedo = mix(textured, sclera, smoothstep(1.0, 1.12, r));
    }
    float ao = mix(0.85, 0.55, smoothstep(1.8, 3.5, r));
    emit(shade(albedo, N, V, 0.6, 300.0, ao, vec3(0.0)) * mix(1.0, ao, 0.5), cls_eye());
}
"""
)

#: Strand-textured, alpha-tested layers: eyelashes, scalp hair, beard.
FS_HAIR = (
    _FS_HEADER
    + """
uniform sampler2D tex_m1;
uniform vec3 hair_col, beard_col;
uniform float strand_scale, hair_shine;
uniform float beard_shell;  // height of a blended fur shell (photoreal beard), -1 if opaque
uniform float beard_cheek_y, beard_root;  // top of the beard on the cheeks (obj cm); root alpha
void main() {
    vec3 V;
    vec3 N = view_normal(V);
    vec2 uv = v_uv;
    vec3 albedo;
    float cls;
    float ao = 1.0;
    float alpha = 1.0;
    float seg_a = 1.0;  // blended: 1 writes the class, 0 keeps what is there
    if (v_mat == 8) {
        // sparse, thin lashes: most of each card is discarded
        float s = texture(tex_strand, vec2(uv.x * 9.0, uv.y * 0.2)).r;
        vec3 lash = shade(vec3(0.03, 0.022, 0.018), N, V, 0.1, 30.0, 0.6, vec3(0.0));
        if (photoreal == 1) {  // blended, not cut out (which speckles them)
            float a = 0.8 * smoothstep(0.45, 0.8, s);
            if (a < 0.02) discard;
            f_col = vec4(lash, a);
            f_seg = vec4(0.0);  // the eye or skin under them keeps its class
            return;
        }
        if (s < 0.62) discard;
        emit(lash, 1.0);
        return;
    } else if (v_mat == 10) {
        float az = atan(v_obj.x, v_obj.z - 1.0);
        vec2 sc = vec2(az * 5.0 * strand_scale, v_obj.y * 0.035 * strand_scale) + noise_off.xy;
        vec4 st = texture(tex_strand, sc);
        vec4 st2 = texture(tex_strand, sc * vec2(2.7, 1.3) + 0.37);
        float cover = uv.x + (st.r - 0.5) * 2.5 + (st.b - 0.5) * 1.5;
        if (cover < 0.35) discard;
        albedo = hair_col * (0.45 + 0.75 * st2.r + 0.4 * (st.b - 0.5)) * (0.85 + 0.3 * st.a);
        ao = mix(0.55, 1.0, smoothstep(0.3, 1.5, cover));
        cls = 13.0;
    } else if (beard_shell >= 0.0) {
        // photoreal fur shells: each strand reaches up to its own height, shorter towards the
        // beard's edge, so the skin shows between the tips and the outline is soft
        vec4 m1 = texture(tex_m1, vec2(uv.x * 0.5, uv.y));
        vec4 st = texture(tex_strand, vec2(uv.x * 60.0, uv.y * 9.0) + noise_off.zw);
        // its edges on the cheeks and down the neck are ragged, by clumps, not straight lines
        float y = v_obj.y + (st.b - 0.5) * 1.5;
        float cheek = smoothstep(1.5, 3.0, abs(v_obj.x))
            * smoothstep(beard_cheek_y - 0.8, beard_cheek_y + 0.8, y);
        float neck = smoothstep(beard_low - 2.5, beard_low, y);
        float cover = m1.a * neck * beard_density * (1.0 - cheek);
        float h = clamp((st.r - 0.25) * 2.0, 0.0, 1.0) * smoothstep(0.1, 0.7, cover);
        alpha = smoothstep(beard_shell - 0.25, beard_shell, h);
        bool root = beard_shell < 0.3;
        if (root)  // the dense roots, in clumps
            alpha = max(alpha, beard_root * smoothstep(0.1, 0.6, cover) * (0.7 + 0.6 * st.b));
        alpha = min(alpha, 1.0);
        if (alpha < 0.02) discard;
        albedo = beard_col * (0.55 + 0.7 * st.g) * (0.75 + 0.5 * st.b);
        ao = mix(0.5, 1.0, beard_shell);
        cls = 14.0;
        seg_a = float(root && alpha >= 0.5);
    } else {
        vec4 m1 = texture(tex_m1, vec2(uv.x * 0.5, uv.y));
        vec4 st = texture(tex_strand, vec2(uv.x * 40.0, uv.y * 6.0) + noise_off.zw);
        if (m1.a * beard_fade() * beard_density * (0.55 + 0.9 * st.r) < 0.55) discard;
        albedo = beard_col * (0.5 + 0.8 * st.g);
        cls = 14.0;
    }
    // Kajiya-Kay highlight along strands running down the head
    vec3 L = normalize(key_dir);
    vec3 H = normalize(L + V);
    vec3 T = normalize(head_up - N * dot(N, head_up));
    float th = dot(T, H);
    float kk = hair_shine * 0.5 * pow(sqrt(max(1.0 - th * th, 0.0)), 60.0)
        * max(dot(N, L) + 0.2, 0.0);
    vec3 col = shade(albedo, N, V, 0.0, 10.0, ao, vec3(0.0));
    col = pow(pow(col, vec3(2.2)) + key_col * kk * exposure * ao, vec3(1.0 / 2.2));
    f_col = vec4(col, alpha);
    f_seg = vec4(cls / 255.0, 0.0, 0.0, seg_a);
}
"""
)

#: MakeHuman cards (synth v2): hair, eyebrows, eyelashes. Texture alpha is strand coverage.
#: Hair: pass 0 draws the dense part (alpha >= 0.5) opaquely, with depth and classes; pass 1
#: blends the sparse fringe over everything, back to front, without writing depth or classes.
#: Brows and lashes (pass 2, after the skin): blended whole, so that skin shows between the
#: strands, writing the brow classes where strands are dense and no depth.
FS_CARD = (
    _FS_HEADER
    + """
uniform sampler2D tex_card;
uniform vec3 card_tint;
uniform int card_kind;  // 0 hair, 1 eyebrow, 2 eyelash
uniform int card_pass;
uniform float hair_shine;
void main() {
    vec4 t = texture(tex_card, v_uv);
    // eyebrow strands are sparse: filtered down they rarely reach half coverage, yet the brow
    // region is brow (classes 5/6) wherever they are drawn
    float dense = card_kind == 1 ? 0.2 : 0.5;
    if (card_pass == 0 && t.a < dense) discard;
    if (card_pass == 1 && (t.a >= dense || t.a < 0.03)) discard;
    if (card_pass == 2 && t.a < 0.03) discard;
    // filtered down to a few pixels, brow and lash strands keep a fraction of their coverage
    float a = card_pass == 2 ? min(1.0, t.a * (card_kind == 1 ? 2.5 : 1.5)) : t.a;
    vec3 V;
    vec3 N = view_normal(V);
    // hair keeps its texture's strands, recoloured; brow and lash textures are black strand
    // masks, so they take their colour from the tint alone
    vec3 albedo = card_kind == 0 ? pow(t.rgb, vec3(2.2)) * card_tint : card_tint;
    float cls = card_kind == 0 ? 13.0 : (card_kind == 1 ? (v_obj.x < 0.0 ? 6.0 : 5.0) : 1.0);
    vec3 L = normalize(key_dir);
    vec3 H = normalize(L + V);
    vec3 T = normalize(head_up - N * dot(N, head_up));
    float th = dot(T, H);
    float kk = hair_shine * 0.12 * pow(sqrt(max(1.0 - th * th, 0.0)), 80.0)
        * max(dot(N, L) + 0.2, 0.0) * key_visibility(N) * float(card_kind == 0);
    vec3 col = shade(albedo, N, V, 0.0, 10.0, 0.85, vec3(0.0));
    col = pow(pow(col, vec3(2.2)) + key_col * kk * exposure, vec3(1.0 / 2.2));
    f_col = vec4(col, card_pass == 0 ? 1.0 : a);  // the dense part is drawn opaque
    // the class target blends with this alpha too: 1 writes the class, 0 keeps what is there
    float seg_a = card_pass == 2 ? float(card_kind == 1 && t.a >= dense) : 1.0;
    f_seg = vec4(cls / 255.0, 0.0, 0.0, seg_a);
}
"""
)

#: Headwear, glasses frames, clothing.
FS_MISC = (
    _FS_HEADER
    + """
uniform vec3 hw_col, glasses_col, cloth_col, cloth_col2;
uniform float hw_pattern;
uniform int cloth_pattern;
void main() {
    vec3 V;
    vec3 N = view_normal(V);
    vec2 uv = v_uv;
    if (v_mat == 12) {
        float knit = 0.5 + 0.5 * sin(uv.x * 6.0) * sin(uv.y * 3.0 + uv.x);
        float stripe = step(0.5, fract(uv.y * 0.25)) * hw_pattern;
        vec3 albedo = hw_col * (0.75 + 0.35 * knit) * (1.0 - 0.4 * stripe);
        emit(shade(albedo, N, V, 0.02, 10.0, 1.0, vec3(0.0)), 17.0);
    } else if (v_mat == 13) {
        emit(shade(glasses_col, N, V, 0.4, 120.0, 1.0, vec3(0.0)), 16.0);
    } else {
        float pat = 0.0;
        if (cloth_pattern == 1) pat = step(0.5, fract(v_obj.y * 0.35));
        if (cloth_pattern == 2)
            pat = step(0.5, fract(v_obj.y * 0.3)) * step(0.5, fract(v_obj.x * 0.3));
        if (cloth_pattern == 3) pat = smoothstep(0.45, 0.55, texture(tex_noise, v_obj.xy * 0.01).r);
        vec3 albedo = mix(cloth_col, cloth_col2, pat);
        float fold = texture(tex_noise, v_obj.xy * vec2(0.004, 0.008) + noise_off.xy).r;
        albedo *= 0.75 + 0.5 * fold;
        emit(shade(albedo, N, V, 0.01, 8.0, 0.85, vec3(0.0)), 15.0);
    }
}
"""
)


@dataclass
class RenderResult:
    """Output-size colour with coverage alpha, class ids, and hi-res linear depth (cm)."""

    rgba: np.ndarray  # (H, W, 4) float32 0..1, straight (not premultiplied) colour + coverage
    seg: np.ndarray  # (H, W) uint8
    depth_hi: np.ndarray  # (sH, sW) float32 eye-space distance along -z; inf where empty
    supersample: int


#: Interleaved vertex layout of :meth:`Mesh.interleaved`.
_ATTRIBUTES = (
    ("in_pos", 3),
    ("in_nrm", 3),
    ("in_obj", 3),
    ("in_uv", 2),
    ("in_ao", 1),
    ("in_mat", 1),
)


def _layout(prog, vbo) -> tuple:
    """Buffer format for ``prog``: attributes the compiler optimised away become skipped bytes."""
    fmt, names = [], []
    for name, n in _ATTRIBUTES:
        if name is not None and name in prog:
            fmt.append(f"{n}f")
            names.append(name)
        else:
            fmt.append(f"{4 * n}x")
    return (vbo, " ".join(fmt), *names)


_DEPTH_VS = """
#version 330
uniform mat3 rot;
uniform float scale;
in vec3 in_pos;
void main() {
    vec3 p = rot * in_pos * scale;
    gl_Position = vec4(p.xy, -p.z, 1.0);
}
"""
_DEPTH_FS = """
#version 330
out vec4 c;
void main() { c = vec4(1.0); }
"""


#: Depth-only pass from the key light; cards are alpha-tested so strands, not quads, cast shadows.
_SHADOW_VS = """
#version 330
uniform mat4 light_mvp;
in vec3 in_pos;
in vec2 in_uv;
out vec2 v_uv;
void main() {
    v_uv = in_uv;
    gl_Position = light_mvp * vec4(in_pos, 1.0);
}
"""
_SHADOW_FS = """
#version 330
uniform sampler2D tex_card;
uniform int alpha_test;
in vec2 v_uv;
out vec4 c;
void main() {
    if (alpha_test == 1 && texture(tex_card, v_uv).a < 0.5) discard;
    c = vec4(gl_FragCoord.z);  // the depth again, readable without comparison
}
"""
#: Shadow map side (texels) and the half-width (cm) of the scene it covers around the face.
SHADOW_SIZE = 512
SHADOW_RADIUS_CM = 32.0
#: The iris radius in the cornea's UV (FS_EYE's ``r``): an iris texture is scaled onto it.
CORNEA_IRIS_UV = 0.095
#: Texture units of the photoreal look's per-sample textures (0-4 are the v1 banks).
UNIT_SKIN, UNIT_GLOSSY, UNIT_SHADOW, UNIT_IRIS, UNIT_CARD, UNIT_SHADOW_DEPTH = 5, 6, 7, 8, 9, 10


def _back_to_front(mesh: Mesh) -> np.ndarray:
    """The mesh's triangles farthest first (camera space looks down -z), for blending."""
    depth = mesh.pos[mesh.tris].mean(1)[:, 2]
    return mesh.tris[np.argsort(depth)]


def light_matrix(key_dir: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Orthographic clip matrix looking along -key_dir at a sphere (centre, radius): the
    shadow map's view of the scene, nearer the light = smaller depth."""
    z = key_dir / np.linalg.norm(key_dir)
    a = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(a, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[0, :3], m[1, :3], m[2, :3] = x / radius, y / radius, -z / radius
    m[:3, 3] = -m[:3, :3] @ centre
    return m.astype(np.float32)


def vertex_ambient_occlusion(
    ctx, static: HeadStatic, n_dirs: int = 64, res: int = 320
) -> np.ndarray:
    """Per render-vertex ambient occlusion of the neutral head, from depth maps in many directions.

    A vertex's occlusion is the cosine-weighted fraction of directions from which it is not hidden
    by the rest of the head: eye sockets, nostrils, the mouth, ears and the under-chin darken the
    way soft, everywhere-light darkens them. Computed once per process (a fraction of a second).
    """
    import moderngl

    model = static.model
    v = model.neutral.astype(np.float32)
    centre = (v.min(0) + v.max(0)) / 2
    p = v - centre
    radius = float(np.linalg.norm(p, axis=1).max()) * 1.01
    tris = static.tris_main
    pos_idx = static.pos_index
    prog = ctx.program(vertex_shader=_DEPTH_VS, fragment_shader=_DEPTH_FS)
    vbo = ctx.buffer(p[pos_idx].astype(np.float32).tobytes())
    ibo = ctx.buffer(np.ascontiguousarray(tris, np.uint32).tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f", "in_pos")], index_buffer=ibo, index_element_size=4)
    depth = ctx.depth_texture((res, res))
    fbo = ctx.framebuffer(depth_attachment=depth)
    nrm = static.incidence @ np.cross(
        v[static.tri_pos[:, 1]] - v[static.tri_pos[:, 0]],
        v[static.tri_pos[:, 2]] - v[static.tri_pos[:, 0]],
    )
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-12
    k = np.arange(n_dirs) + 0.5
    phi = np.arccos(1 - 2 * k / n_dirs)
    theta = np.pi * (1 + 5**0.5) * k
    dirs = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], 1)
    acc = np.zeros(len(v))
    wsum = np.zeros(len(v))
    fbo.use()
    ctx.enable(moderngl.DEPTH_TEST)
    ctx.disable(moderngl.CULL_FACE)
    for d in dirs:
        # rotation whose third row is d: the camera looks along -d from outside the head
        a = np.array([1.0, 0, 0]) if abs(d[0]) < 0.9 else np.array([0, 1.0, 0])
        x = np.cross(a, d)
        x /= np.linalg.norm(x)
        y = np.cross(d, x)
        rot = np.stack([x, y, d]).astype(np.float32)
        prog["rot"].write(rot.T.tobytes())
        prog["scale"].value = 1.0 / radius
        fbo.clear(depth=1.0)
        vao.render(moderngl.TRIANGLES)
        buf = np.frombuffer(depth.read(), np.float32).reshape(res, res)
        q = (p @ rot.T) / radius
        col = np.clip(((q[:, 0] + 1) * 0.5 * res).astype(int), 0, res - 1)
        row = np.clip(((q[:, 1] + 1) * 0.5 * res).astype(int), 0, res - 1)
        zbuf = buf[row, col]
        zv = (-q[:, 2] + 1) * 0.5
        w = np.clip(nrm @ d, 0, None)
        acc += w * (zv <= zbuf + 0.006)
        wsum += w
    for obj in (vao, vbo, ibo, fbo, depth, prog):
        obj.release()
    ao = np.where(wsum > 0, acc / np.maximum(wsum, 1e-9), 1.0)
    return np.clip(ao * 1.15, 0.05, 1.0).astype(np.float32)[pos_idx]


def _cached_ao(ctx, static: HeadStatic) -> np.ndarray:
    """Ambient occlusion, cached beside the face model cache so workers start quickly."""
    from pathlib import Path

    from synthmarks.fileio import atomic_path

    cache = static.model.cache_path
    path = Path(cache).with_suffix(".ao.npy") if cache else None
    if path is not None and path.is_file():
        try:
            ao = np.load(path)
            if ao.shape == (len(static.pos_index),):
                return ao
        except (OSError, ValueError):
            pass
    ao = vertex_ambient_occlusion(ctx, static)
    if path is not None:
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.save(fh, ao)
        except OSError:
            pass  # a read-only cache only costs the recomputation
    return ao


class Renderer:
    """Owns the GL context, programs, texture banks and framebuffer of one process."""

    def __init__(self, static: HeadStatic, size: int, supersample: int = 2, appearance=None):
        import moderngl

        self.moderngl = moderngl
        self.appearance = appearance
        self.static = static
        self.size = size
        self.ss = supersample
        self.ctx = create_context()
        # Every GL call runs inside ``with self.ctx``: a process may hold several renderers (tests,
        # notebooks), and GL calls go to whichever context is current, not to the one they name.
        with self.ctx:
            self._build(static, size, supersample)

    def _build(self, static: HeadStatic, size: int, supersample: int) -> None:
        moderngl = self.moderngl
        ctx = self.ctx
        self.progs = {
            name: ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=fs)
            for name, fs in (
                ("skin", FS_SKIN),
                ("inner", FS_INNER),
                ("eye", FS_EYE),
                ("hair", FS_HAIR),
                ("misc", FS_MISC),
                ("card", FS_CARD),
            )
        }
        self.shadow_prog = ctx.program(vertex_shader=_SHADOW_VS, fragment_shader=_SHADOW_FS)
        hs = size * supersample
        self.color = ctx.texture((hs, hs), 4, dtype="f1")
        self.seg = ctx.texture((hs, hs), 1, dtype="f1")
        self.depth = ctx.depth_texture((hs, hs))
        self.fbo = ctx.framebuffer(
            color_attachments=[self.color, self.seg], depth_attachment=self.depth
        )

        def tex(arr: np.ndarray, unit: int, name: str, nearest: bool = False, repeat: bool = True):
            arr = np.ascontiguousarray(np.flipud(arr))
            comps = 1 if arr.ndim == 2 else arr.shape[2]
            t = ctx.texture((arr.shape[1], arr.shape[0]), comps, arr.tobytes(), dtype="f1")
            if nearest:
                t.filter = (moderngl.NEAREST, moderngl.NEAREST)
            else:
                t.filter = (moderngl.LINEAR, moderngl.LINEAR)
            t.repeat_x = t.repeat_y = repeat
            t.use(unit)
            for prog in self.progs.values():
                if name in prog:
                    prog[name].value = unit
            return t

        # Ambient occlusion first: it creates (and frees) GL objects of its own, which may take
        # over texture units; the material textures are bound afterwards and again per render.
        self.head_ao = _cached_ao(ctx, static)
        # The occlusion is baked on the neutral head, whose lips are closed over the teeth: every
        # tooth gets the minimum (0.05) and renders near-black however far the mouth opens, where
        # in a photograph the front teeth of a smile are the brightest thing in the mouth. The
        # photoreal look (revision 5) lets the teeth's depth into the mouth (FS_INNER) darken
        # them instead; the v1 look keeps its dark teeth, so its faces stay as they were.
        self.head_ao_v2 = np.where(static.mat == M_TEETH, 1.0, self.head_ao).astype(np.float32)
        atlas = static.atlas
        self.textures = [
            tex(noise_bank(), 0, "tex_noise"),
            tex(strand_bank(), 1, "tex_strand"),
            tex(atlas.masks1, 2, "tex_m1", repeat=False),
            tex(atlas.masks2, 3, "tex_m2", repeat=False),
            tex(atlas.classes, 4, "tex_cls", nearest=True, repeat=False),
        ]
        # The head's static attributes never change; its positions/normals are rewritten per
        # sample. One index buffer per material group so each group runs only its own shader
        # (llvmpipe pays for every branch of an uber-shader).
        nv = len(static.pos_index)
        self.head_vbo = ctx.buffer(reserve=nv * 13 * 4)
        tri_mat = static.mat[static.tris_main[:, 0]]
        groups = {
            "skin": static.tris_main[tri_mat <= M_HEAD],
            "inner": static.tris_main[(tri_mat > M_HEAD) & (tri_mat <= M_TEETH)],
            "eye": static.tris_main[tri_mat == M_EYE],
        }
        self.head_vaos = []
        self._buffers = [self.head_vbo]
        for group, tris in groups.items():
            self.head_vaos.append(self._vao(group, self.head_vbo, tris))
        self.lash_vao = self._vao("hair", self.head_vbo, static.tris_lash)
        self._build_photoreal(ctx, static)
        # uniform name -> the programs' uniform objects (looked up once, set per sample)
        self._uniforms: dict[str, list] = {}
        for prog in (*self.progs.values(), self.shadow_prog):
            for name in prog:
                member = prog[name]
                if isinstance(member, moderngl.Uniform) and not name.startswith("tex_"):
                    self._uniforms.setdefault(name, []).append(member)

    def _build_photoreal(self, ctx, static: HeadStatic) -> None:
        """Textures of the photoreal look and the shadow map. Units without a sample's texture
        hold a 1x1 stand-in, so every sampler always has a texture of its type."""
        mgl = self.moderngl

        def upload(arr: np.ndarray, dtype: str = "f1", mip: bool = False):
            arr = np.ascontiguousarray(np.flipud(arr))
            t = ctx.texture((arr.shape[1], arr.shape[0]), arr.shape[2], arr.tobytes(), dtype=dtype)
            if mip:
                t.build_mipmaps()
                t.filter = (mgl.LINEAR_MIPMAP_LINEAR, mgl.LINEAR)
            else:
                t.filter = (mgl.LINEAR, mgl.LINEAR)
            return t

        for prog in (*self.progs.values(), self.shadow_prog):
            for name, unit in (
                ("tex_skin", UNIT_SKIN),
                ("tex_glossy", UNIT_GLOSSY),
                ("tex_shadow", UNIT_SHADOW),
                ("tex_shadow_depth", UNIT_SHADOW_DEPTH),
                ("tex_iris", UNIT_IRIS),
                ("tex_card", UNIT_CARD),
            ):
                if name in prog:
                    prog[name].value = unit
        self.stand_in = upload(np.full((1, 1, 4), 128, np.uint8))
        self.stand_in_f = upload(np.zeros((1, 1, 3), np.float32), "f4")
        self.shadow_tex = ctx.depth_texture((SHADOW_SIZE, SHADOW_SIZE))
        self.shadow_tex.compare_func = "<="
        self.shadow_tex.filter = (mgl.LINEAR, mgl.LINEAR)
        self.shadow_tex.repeat_x = self.shadow_tex.repeat_y = False
        self.shadow_depth = ctx.texture((SHADOW_SIZE, SHADOW_SIZE), 1, dtype="f4")
        self.shadow_depth.filter = (mgl.NEAREST, mgl.NEAREST)
        self.shadow_depth.repeat_x = self.shadow_depth.repeat_y = False
        self.shadow_fbo = ctx.framebuffer([self.shadow_depth], self.shadow_tex)
        self.shadow_head = ctx.vertex_array(
            self.shadow_prog,
            [_layout(self.shadow_prog, self.head_vbo)],
            index_buffer=ctx.buffer(np.ascontiguousarray(static.tris_main, np.uint32).tobytes()),
            index_element_size=4,
        )
        app = self.appearance
        self.skin_tex, self.glossy_tex, self.iris_tex, self.card_tex = [], [], [], {}
        self._asset_index: dict[str, dict[str, int]] = {}  # kind -> name -> texture index
        if app is None:
            return
        self._asset_index = {
            kind: {name: i for i, name in enumerate(names)} for kind, names in app.names().items()
        }
        self.skin_tex = [upload(s.rgba, mip=True) for s in app.skins.skins]
        self.glossy_tex = [upload(e.glossy, "f4") for e in app.hdri.envs]
        for t in self.glossy_tex:
            t.repeat_y = False
        self.iris_tex = [upload(i.rgba, mip=True) for i in app.irises]
        for kind, sets in app.cards.items():
            for c in sets:
                self.card_tex[f"{kind}/{c.name}"] = upload(c.texture, mip=True)

    def _vao(self, program: str, vbo, tris: np.ndarray):
        ibo = self.ctx.buffer(np.ascontiguousarray(tris, np.uint32).tobytes())
        self._buffers.append(ibo)
        prog = self.progs[program]
        return self.ctx.vertex_array(
            prog, [_layout(prog, vbo)], index_buffer=ibo, index_element_size=4
        )

    def _set_uniforms(self, params: dict, scene: Scene, env: dict) -> None:
        sk, mk, br, hp = params["skin"], params["makeup"], params["brows"], params["hair"]
        fh, ey, lt = params["facial_hair"], params["eyes"], params["light"]
        values = {
            "proj": scene.camera.gl_projection().T.tobytes(),
            "skin_albedo": tuple(sk["albedo"]),
            "redness": sk["redness"],
            "noise_amp": sk["noise_amp"],
            "pores": sk["pores"],
            "freckles": sk["freckles"],
            "blemishes": sk["blemishes"],
            "age": sk["age"],
            "skin_spec": sk["spec"],
            "skin_rough": sk["roughness"],
            "noise_off": tuple(sk["noise_offset"]),
            "lipstick": mk["lipstick"],
            "lip_col": tuple(mk["lip_colour"]),
            "eyeshadow": mk["eyeshadow"],
            "shadow_col": tuple(mk["eyeshadow_colour"]),
            "eyeliner": mk["eyeliner"],
            "blush": mk["blush"],
            "brow_col": tuple(br["colour"]),
            "brow_thick": br["thickness"],
            "brow_density": br["density"],
            "brow_arch": br["arch"],
            "hair_col": tuple(hp["colour"]),
            "strand_scale": hp["strand_scale"],
            "hair_shine": hp["shine"],
            "stubble": fh["stubble"],
            "beard_col": tuple(fh["colour"]),
            "iris_col": tuple(ey["iris_colour"]),
            "sclera_col": tuple(ey["sclera"]),
            "pupil": ey["pupil"],
            "teeth_col": tuple(params["teeth"]),
            "key_dir": tuple(np.asarray(lt["key_dir"]) / np.linalg.norm(lt["key_dir"])),
            "key_col": tuple(lt["key_colour"]),
            "fill_dir": tuple(lt["fill_dir"]),
            "fill_col": tuple(lt["fill_colour"]),
            "ambient": lt["ambient"],
            "exposure": lt["exposure"],
            "sky_col": tuple(env["sky"]),
            "ground_col": tuple(env["ground"]),
            "head_up": tuple(scene.rotation @ np.array([0.0, 1.0, 0.0])),
        }
        hw = params.get("headwear") or {"colour": [0.2, 0.2, 0.2], "pattern": 0.0}
        values["hw_col"] = tuple(hw["colour"])
        values["hw_pattern"] = float(hw["pattern"] > 0.5)
        gl = params.get("glasses") or {"colour": [0.05, 0.05, 0.05]}
        values["glasses_col"] = tuple(gl["colour"])
        cp = params["clothing"]
        values["cloth_col"] = tuple(cp["colour"])
        values["cloth_col2"] = tuple(cp["pattern_colour"])
        values["cloth_pattern"] = int(cp["pattern"])
        values.update(self._photoreal_uniforms(params, scene, env))
        for name, v in values.items():
            for uniform in self._uniforms.get(name, ()):
                if isinstance(v, bytes):
                    uniform.write(v)
                else:
                    uniform.value = v

    def _photoreal_uniforms(self, params: dict, scene: Scene, env: dict) -> dict:
        """Uniforms of the photoreal layers (all off for the v1 look), and the sample's textures
        bound to their units."""
        lk = params.get("v2") or {}
        app = self.appearance
        index = self._asset_index
        off = {
            "ibl": 0,
            "shadows": int(bool(lk.get("shadows", False))),
            "skin_tex_on": 0,
            "painted_brows": 1.0,
            "iris_tex_on": 0,
            "shadow_texel": 1.0 / SHADOW_SIZE,
            "shadow_span_cm": 2.0 * SHADOW_RADIUS_CM,
            "key_tan": float(np.tan(np.radians(lk.get("key_radius_deg", 0.0)))),
            "env_rot": np.eye(3, dtype=np.float32).tobytes(),
            "sh": np.zeros((9, 3), np.float32).tobytes(),
            "skin_gain": (1.0, 1.0, 1.0),
            "bump": 0.0,
            "iris_centre": (0.5, 0.5),
            "iris_scale": 1.0,
            "iris_tex_lum": 1.0,
            "beard_low": -1.0e4,
            "beard_density": 1.0,
            "beard_cheek_y": 1.0e4,
            "beard_root": 0.8,
            "photoreal": int(bool(lk)),
        }
        if "beard_neck_cm" in lk:  # look revision 3: the beard ends under the chin
            y = scene.head_obj[self.static.model.landmarks, 1]
            off["beard_low"] = float(y[8] - lk["beard_neck_cm"])
            off["beard_density"] = lk["beard_density"]
            # revision 4: how far up the cheeks (from the nose wings down to below the mouth
            # corners) and how thick at the roots (skin shows through a short beard)
            nose, mouth = y[[31, 35]].mean(), y[[48, 54]].mean()
            fh = params["facial_hair"]
            top, low = nose + 1.0, mouth - 1.5
            off["beard_cheek_y"] = float(top + (low - top) * fh["beard_top"])
            grown = np.clip((fh["beard_length_cm"] - 0.15) / 0.85, 0.0, 1.0)
            off["beard_root"] = float(0.45 + 0.4 * grown)
        self.stand_in.use(UNIT_SKIN)
        self.stand_in.use(UNIT_IRIS)
        self.stand_in.use(UNIT_CARD)
        self.stand_in_f.use(UNIT_GLOSSY)
        self.shadow_tex.use(UNIT_SHADOW)
        self.shadow_depth.use(UNIT_SHADOW_DEPTH)
        if env.get("ibl"):
            off.update(
                ibl=1,
                sh=np.asarray(env["sh"], np.float32).tobytes(),
                env_rot=np.asarray(env["env_rot"], np.float32).T.tobytes(),
                key_dir=tuple(env["key_dir"]),
                key_col=tuple(env["key_col"]),
                exposure=float(env["exposure"]),
            )
            self.glossy_tex[index["hdri"][env["hdri"]]].use(UNIT_GLOSSY)
        if lk.get("skin") is not None:  # a baked skin has its own brows: no painted band
            off.update(
                skin_tex_on=1, skin_gain=tuple(lk["skin_gain"]), bump=lk["bump"], painted_brows=0.0
            )
            self.skin_tex[index["skins"][lk["skin"]]].use(UNIT_SKIN)
        if lk.get("brow_card") is not None:
            off["painted_brows"] = 0.0
        if lk.get("iris") is not None:
            iris = app.irises[index["irises"][lk["iris"]]]
            off.update(
                iris_tex_on=1,
                iris_centre=iris.centre,
                iris_scale=iris.radius / CORNEA_IRIS_UV,
                iris_tex_lum=iris.luminance,
            )
            self.iris_tex[index["irises"][lk["iris"]]].use(UNIT_IRIS)
        return off

    def _draw_mesh(self, mesh: Mesh, program=None, tris: np.ndarray | None = None) -> None:
        ctx = self.ctx
        vbo = ctx.buffer(mesh.interleaved().tobytes())
        ibo = ctx.buffer(
            np.ascontiguousarray(mesh.tris if tris is None else tris, np.uint32).tobytes()
        )
        if program is None:
            name = "card" if mesh.card else "hair" if mesh.mat[0] in (M_HAIR, M_BEARD) else "misc"
            program = self.progs[name]
        if "beard_shell" in program:
            program["beard_shell"].value = -1.0 if mesh.shell is None else mesh.shell
        if mesh.card:
            self.card_tex[mesh.card.texture].use(UNIT_CARD)
            if "card_kind" in program:
                program["card_kind"].value = mesh.card.kind
                program["card_tint"].value = tuple(mesh.card.tint)
        vao = ctx.vertex_array(
            program, [_layout(program, vbo)], index_buffer=ibo, index_element_size=4
        )
        vao.render(self.moderngl.TRIANGLES)
        vao.release()
        vbo.release()
        ibo.release()

    def render(self, scene: Scene, params: dict, env: dict) -> RenderResult:
        """Draw one face; colour (float 0..1 RGBA), class ids and linear depth at output size."""
        with self.ctx:
            return self._render(scene, params, env)

    def _shadow_pass(self, scene: Scene, light_mvp: np.ndarray) -> None:
        """Depth of everything from the key light, into the shadow map."""
        mgl = self.moderngl
        ctx = self.ctx
        prog = self.shadow_prog
        prog["light_mvp"].write(light_mvp.T.astype(np.float32).tobytes())
        self.shadow_fbo.use()
        self.shadow_fbo.clear(1.0, 1.0, 1.0, 1.0, depth=1.0)
        ctx.enable(mgl.DEPTH_TEST)
        ctx.disable(mgl.BLEND)  # the colour target holds depths
        ctx.disable(mgl.CULL_FACE)
        prog["alpha_test"].value = 0
        # the closed head casts the same shadow from its far side alone: half the triangles,
        # and no self-shadowing acne on the lit side
        ctx.enable(mgl.CULL_FACE)
        ctx.cull_face = "front"
        self.shadow_head.render(mgl.TRIANGLES)
        ctx.disable(mgl.CULL_FACE)
        ctx.cull_face = "back"
        for mesh in scene.extras:
            prog["alpha_test"].value = int(mesh.card is not None)
            if mesh.card is not None and mesh.card.kind == 2:
                continue  # lashes are too fine for the map's texels
            if mesh.shell is not None and mesh.shell < 1.0:
                continue  # a fur-shell beard casts its shadow from its outermost shell alone
            self._draw_mesh(mesh, program=prog)

    def _render(self, scene: Scene, params: dict, env: dict) -> RenderResult:
        mgl = self.moderngl
        ctx = self.ctx
        for unit, t in enumerate(self.textures):  # a render depends on nothing done before it
            t.use(unit)
        self._set_uniforms(params, scene, env)
        scene.head.ao = self.head_ao_v2 if params.get("v2") else self.head_ao
        self.head_vbo.write(scene.head.interleaved().tobytes())
        shadows = bool((params.get("v2") or {}).get("shadows"))
        if shadows:
            key = np.asarray(env.get("key_dir", params["light"]["key_dir"]), np.float64)
            centre = scene.landmarks_cam[:68].mean(0)
            light = light_matrix(key, centre, SHADOW_RADIUS_CM)
            for uniform in self._uniforms.get("light_mvp", ()):
                uniform.write(light.T.astype(np.float32).tobytes())
            self._shadow_pass(scene, light)
            self.shadow_tex.use(UNIT_SHADOW)
            self.shadow_depth.use(UNIT_SHADOW_DEPTH)
        self.fbo.use()
        self.fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        ctx.enable(mgl.DEPTH_TEST)
        ctx.disable(mgl.BLEND)
        ctx.enable(mgl.CULL_FACE)  # the head is closed and wound counter-clockwise outside
        ctx.cull_face = "back"
        cards = [m for m in scene.extras if m.card is not None]
        card_prog = self.progs["card"]
        # Outer layers (hair, hats, glasses) first: the costly skin shader then fails the early
        # depth test wherever they cover it. Face skin before mouth and eyes, for the same reason.
        for mesh in scene.extras:
            if mesh.card is not None or mesh.shell is not None:
                continue
            if mesh.cull:
                ctx.enable(mgl.CULL_FACE)
            else:
                ctx.disable(mgl.CULL_FACE)
            self._draw_mesh(mesh)
        # the dense part of each hair card, opaque, with depth and classes
        ctx.disable(mgl.CULL_FACE)
        card_prog["card_pass"].value = 0
        hair = [m for m in cards if m.card.kind == 0]
        for mesh in hair:
            self._draw_mesh(mesh)
        ctx.enable(mgl.CULL_FACE)
        for vao in self.head_vaos:
            vao.render(mgl.TRIANGLES)
        ctx.disable(mgl.CULL_FACE)
        # Lashes and everything blended stay out of the depth used for visibility (a Framebuffer
        # setting: moderngl.Context has no depth_mask).
        self.fbo.depth_mask = False
        if not params.get("v2"):
            self.lash_vao.render(mgl.TRIANGLES)  # v1: procedural lashes, cut out
        else:  # cards exist only in the photoreal look
            ctx.enable(mgl.BLEND)
            ctx.blend_func = (
                mgl.SRC_ALPHA,
                mgl.ONE_MINUS_SRC_ALPHA,
                mgl.ONE,
                mgl.ONE_MINUS_SRC_ALPHA,
            )
            if not any(m.card.kind == 2 for m in cards):
                self.lash_vao.render(mgl.TRIANGLES)  # procedural lashes, blended
            # a beard's fur shells, root to tip, each back to front, over the skin
            ctx.enable(mgl.CULL_FACE)
            for mesh in (m for m in scene.extras if m.shell is not None):
                self._draw_mesh(mesh, tris=_back_to_front(mesh))
            ctx.disable(mgl.CULL_FACE)
            # brows and lashes, blended back to front over the skin, brow classes where dense
            card_prog["card_pass"].value = 2
            for mesh in sorted((m for m in cards if m.card.kind), key=lambda m: -m.card.kind):
                self._draw_mesh(mesh, tris=_back_to_front(mesh))
            # the hair's sparse fringe, blended back to front over everything, classes untouched
            self.fbo.color_mask = ((True,) * 4, (False,) * 4)
            card_prog["card_pass"].value = 1
            for mesh in hair:
                self._draw_mesh(mesh, tris=_back_to_front(mesh))
            self.fbo.color_mask = ((True,) * 4, (True,) * 4)
            ctx.disable(mgl.BLEND)
        self.fbo.depth_mask = True

        hs = self.size * self.ss
        rgba = np.frombuffer(self.color.read(), np.uint8).reshape(hs, hs, 4)[::-1]
        seg = np.frombuffer(self.seg.read(), np.uint8).reshape(hs, hs)[::-1]
        d = np.frombuffer(self.depth.read(), np.float32).reshape(hs, hs)[::-1]
        cam = scene.camera
        n, f = cam.near, cam.far
        zn = d * 2.0 - 1.0
        with np.errstate(divide="ignore"):
            lin = (2.0 * f * n) / ((f + n) - zn * (f - n))
        lin = np.where(d >= 1.0, np.inf, lin).astype(np.float32)
        # The colour target holds premultiplied colour (opaque surfaces have alpha 1; blended
        # card fringes over the empty background are colour * alpha): straighten it.
        prem = rgba.astype(np.float32) / 255.0
        if self.ss > 1:
            prem = cv2.resize(prem, (self.size, self.size), interpolation=cv2.INTER_AREA)
            o = self.ss // 2
            seg = seg[o :: self.ss, o :: self.ss]
        alpha = prem[..., 3:4]
        colour = np.where(alpha > 0, prem[..., :3] / np.maximum(alpha, 1e-6), 0.0)
        rgba_f = np.concatenate([colour, alpha], -1).astype(np.float32)
        return RenderResult(rgba_f, np.ascontiguousarray(seg), lin, self.ss)

    def release(self) -> None:
        self.ctx.release()


def configure_threads(workers: int) -> None:
    """Keep llvmpipe, BLAS and OpenCV from oversubscribing the cores when several workers run."""
    n = max(1, (os.cpu_count() or 1) // max(workers, 1))
    os.environ.setdefault("LP_NUM_THREADS", str(n))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    cv2.setNumThreads(n)
