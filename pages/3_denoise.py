"""Denoise: corrupt a digit, then clean it with the denoising autoencoder and with the best classical filter."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import streamlit as st

from rep_models.denoising import denoise_compare, denoise_direct, picture_views, restored_png
from rep_models.images import png_bytes
from ui import common as ui
from ui import links

NOISES = {  # kind -> (label, slider label, max, default, step, explanation)
    "gaussian": ("Gaussian", "Noise level σ", 0.8, 0.3, 0.05, "every pixel gets random static added"),
    "salt_pepper": ("Salt & pepper", "Fraction of pixels hit", 0.6, 0.2, 0.05, "random pixels turn pure black or white"),
    "mask": ("Masking", "Fraction of pixels erased", 0.8, 0.4, 0.05, "random pixels are set to black (the ink there is lost)"),
}

ui.page_header(
    "Denoise",
    "The denoising autoencoder was trained to turn corrupted digits back into clean ones, so it had to learn what digits look like. "
    "Here it competes with the best classical filter (median or Gaussian blur, picked with hindsight for this very image).",
    "raise the noise until the classical filter gives up; try masking, where the ink itself is missing; "
    "or upload a photo of a digit that is already noisy.",
)

with ui.page_guard("Denoise"):
    dae = ui.require_model("denoising_ae", "Denoising")
    left, right = st.columns([1.1, 2], gap="large")
    with left:
        # An upload that is already noisy keeps its noise on the way to 28x28 (the toggle below; on by default).
        x = ui.digit_input("denoise", sources=("Test digit", "Draw", "Upload"), keep_noise=st.session_state.get("denoise_direct", True))
        direct = False
        if x is not None:
            if ui.last_source("denoise") == "Upload":
                direct = st.toggle("My picture is already noisy: denoise it as it is", value=True, key="denoise_direct",
                                   help="Off: add synthetic noise to it first, as with the other inputs.")
            if not direct:
                kind = links.segmented_control("Noise", list(NOISES), format_func=lambda k: NOISES[k][0], default="gaussian",
                                               key="denoise_kind", param="noise") or "gaussian"
                label, slider, top, default, step, explain = NOISES[kind]
                level = links.slider(slider, 0.0, top, default, step, key=f"denoise_level_{kind}", param="level")
                st.caption(f"{label} noise: {explain}.")
                if st.button("New noise", icon=":material/refresh:", key="denoise_reseed"):
                    st.session_state["denoise_seed"] = st.session_state.get("denoise_seed", 0) + 1
    views = None  # an upload that is already noisy: it and its results at its own framing, shown below at full width
    with right:
        if x is None:
            st.markdown(":gray[The clean, noisy and denoised images appear here once there is a digit.]")
        elif dae is not None:
            if direct:
                steps = ui.last_steps("denoise")
                r = denoise_direct(dae, x)
                views = picture_views(steps, r)
                st.caption("There is no clean original to compare with, so no PSNR: judge by eye. Here the 28×28 digit the denoiser "
                           "was given (your picture's noise kept as it was) and what came back; below, both put back into your picture.")
                images, captions = [r.noisy, r.denoised, r.classical], ["what the denoiser saw", "denoising autoencoder", r.classical_name]
            else:
                r = denoise_compare(dae, x, kind, level, seed=st.session_state.get("denoise_seed", 0))
                images = [x, r.noisy, r.denoised, r.classical]
                captions = ["clean", f"noisy · {r.psnr['noisy']:.1f} dB", f"denoising AE · {r.psnr['denoised']:.1f} dB",
                            f"{r.classical_name} · {r.psnr['classical']:.1f} dB"]
                winner = "the denoising autoencoder" if r.psnr["denoised"] >= r.psnr["classical"] else f"the classical filter ({r.classical_name})"
                st.caption("PSNR: how close each image is to the clean one, in decibels (higher is better; +6 dB halves the typical pixel error). "
                           f"Here **{winner}** wins.")
            ui.show_images(images, captions, width=150)
            c1, c2 = st.columns(2)
            c1.download_button("Download the denoised digit (PNG)", png_bytes(r.denoised, scale=10), file_name="denoised_digit.png",
                               mime="image/png", icon=":material/download:", key="denoise_download", on_click="ignore")
            if direct:  # made when clicked: a big photo's full-size PNG takes a moment
                c2.download_button("Download at your picture's size", lambda: restored_png(steps.frame, r.denoised),
                                   file_name="denoised_picture.png", mime="image/png", icon=":material/download:",
                                   key="denoise_download_picture", on_click="ignore")
            else:
                c2.metric("Improvement over the noisy input", f"{r.psnr['denoised'] - r.psnr['noisy']:+.1f} dB")
    if views is not None:
        st.markdown("##### Your picture, denoised")
        ui.show_images(views, ["your picture", "denoising autoencoder", r.classical_name], width=300)
