"""Denoise: corrupt a digit, then clean it with the denoising autoencoder and with the best classical filter."""
from ui.nav import leave_legacy_mode

leave_legacy_mode()  # first: before the slow imports (ui/nav.py says why)

import streamlit as st

from rep_models.denoising import denoise_compare, denoise_direct, picture_views, restored_png
from rep_models.images import png_bytes
from ui import common as ui
from ui import i18n, links
from ui.i18n import t

NOISES = {  # kind -> (max, default, step); its words are denoise.noise.KIND.* in the strings tables
    "gaussian": (0.8, 0.3, 0.05),
    "salt_pepper": (0.6, 0.2, 0.05),
    "mask": (0.8, 0.4, 0.05),
}

ui.page_header(t("nav.denoise"), t("denoise.what"), t("denoise.try"))

with ui.page_guard("Denoise"):
    dae = ui.require_model("denoising_ae", t("denoise.denoising"))
    left, right = st.columns([1.1, 2], gap="large")
    with left:
        # An upload that is already noisy keeps its noise on the way to 28x28 (the toggle below; on by default).
        x = ui.digit_input("denoise", sources=("Test digit", "Draw", "Upload"), keep_noise=st.session_state.get("denoise_direct", True))
        direct = False
        if x is not None:
            if ui.last_source("denoise") == "Upload":
                direct = st.toggle(t("denoise.direct"), value=True, key="denoise_direct", help=t("denoise.direct_help"))
            if not direct:
                kind = links.segmented_control(t("denoise.noise"), list(NOISES), format_func=lambda k: t(f"denoise.noise.{k}"), default="gaussian",
                                               key="denoise_kind", param="noise") or "gaussian"
                top, default, step = NOISES[kind]
                level = links.slider(t(f"denoise.noise.{kind}.level"), 0.0, top, default, step, key=f"denoise_level_{kind}", param="level")
                st.caption(t(f"denoise.noise.{kind}.explain"))
                if st.button(t("denoise.new_noise"), icon=":material/refresh:", key="denoise_reseed"):
                    st.session_state["denoise_seed"] = st.session_state.get("denoise_seed", 0) + 1
    views = None  # an upload that is already noisy: it and its results at its own framing, shown below at full width
    with right:
        if x is None:
            st.markdown(f":gray[{t('denoise.waiting')}]")
        elif dae is not None:
            if direct:
                steps = ui.last_steps("denoise")
                r = denoise_direct(dae, x)
                views = picture_views(steps, r)
                st.caption(t("denoise.direct_caption"))
                images, captions = [r.noisy, r.denoised, r.classical], [t("denoise.saw"), t("denoise.dae"), i18n.tr(r.classical_name)]
            else:
                r = denoise_compare(dae, x, kind, level, seed=st.session_state.get("denoise_seed", 0))
                images = [x, r.noisy, r.denoised, r.classical]
                captions = [t("denoise.clean"), t("denoise.noisy_db", db=f"{r.psnr['noisy']:.1f}"),
                            t("denoise.dae_db", db=f"{r.psnr['denoised']:.1f}"), f"{i18n.tr(r.classical_name)} · {r.psnr['classical']:.1f} dB"]
                winner = (t("denoise.winner_dae") if r.psnr["denoised"] >= r.psnr["classical"]
                          else t("denoise.winner_filter", name=i18n.tr(r.classical_name)))
                st.caption(t("denoise.psnr_caption", winner=winner))
            ui.show_images(images, captions, width=150)
            c1, c2 = st.columns(2)
            c1.download_button(t("denoise.dl_digit"), png_bytes(r.denoised, scale=10), file_name="denoised_digit.png",
                               mime="image/png", icon=":material/download:", key="denoise_download", on_click="ignore")
            if direct:  # made when clicked: a big photo's full-size PNG takes a moment
                c2.download_button(t("denoise.dl_picture"), lambda: restored_png(steps.frame, r.denoised),
                                   file_name="denoised_picture.png", mime="image/png", icon=":material/download:",
                                   key="denoise_download_picture", on_click="ignore")
            else:
                c2.metric(t("denoise.improvement"), f"{r.psnr['denoised'] - r.psnr['noisy']:+.1f} dB")
    if views is not None:
        st.markdown(f"##### {t('denoise.your_picture_title')}")
        ui.show_images(views, [t("denoise.your_picture"), t("denoise.dae"), i18n.tr(r.classical_name)], width=300)
