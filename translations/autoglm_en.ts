<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>ErrorText</name>
    <message>
        <source>The file could not be read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s weight file is damaged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s configuration is not valid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s vocabulary is missing or damaged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This file is not an image that can be opened</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This image is too large</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The question cannot be asked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The request is not valid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The compute device is not available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Internal error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <extracomment>%1 is a translated summary, %2 the technical detail (English)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Out of memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unexpected error: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the configuration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the vocabulary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Building the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Out of GPU memory: running on the CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The weights file holds more than tensors and was refused: no code from a model file is ever run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s weights are damaged or do not match its configuration</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model hub could not be reached</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model was not found on the hub</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model needs an access token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Offline, and the model is not on this computer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A downloaded file was damaged and has been deleted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This app cannot run this kind of model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Measuring the best thread count</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model does not fit in the free memory in float32, so it runs in bfloat16 (answers may differ slightly)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SessionExport</name>
    <message>
        <source>Layer attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attention rollout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gradient-weighted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms (preprocess %2, vision %3, fusion %4, decode %5)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>beams %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>at most %1 tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>head %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>word “%1”</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Caption</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Caption (prompt “%1”)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not sure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Open-AutoGLM Studio session of %1, last used %2; %n image(s)</source>
        <translation>
            <numerusform>Open-AutoGLM Studio session of %1, last used %2; %n image</numerusform>
            <numerusform>Open-AutoGLM Studio session of %1, last used %2; %n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n answer(s). Exported %1.</source>
        <translation>
            <numerusform>, %n answer. Exported %1.</numerusform>
            <numerusform>, %n answers. Exported %1.</numerusform>
        </translation>
    </message>
    <message>
        <source>Image %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The file was moved or deleted; the picture below is the thumbnail kept in the history.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(no answer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>confidence %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Other candidates: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Token probabilities: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>heatmap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Heatmap: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>gates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fusion gates (learned)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Effective image share (no learned gates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No questions were asked about this image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 could not be written: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The folder %1 could not be created.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 could not be written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a file ending in .html, .md, .json or .pdf.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image reliance of the language model</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>No model was found. Use File &gt; Open Model Folder to choose one (the default model or a BLIP folder).</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::AlignPanel</name>
    <message>
        <source>Type at least two labels, separated by commas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search the images by text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. a red star left of a circle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Put the images back in the order they were added</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zero-shot labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. a red circle, a blue square, a green star</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Score every image against these labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Labels of this image</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::AnswerDelegate</name>
    <message>
        <source>Describe the image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not sure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(empty answer)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::AnswerList</name>
    <message>
        <source>Token probabilities</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Confidence %1 (sequence score %2, heuristic %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model has no calibration; the confidence is not calibrated.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::DownloadRow</name>
    <message>
        <source>Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load this model now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove from List</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Waiting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Asking the Hub for the file list…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 · %3/s · %4 left</source>
        <extracomment>%1 and %2 are sizes, %3 a rate (size per second), %4 the time left (m:ss)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · resumed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paused at %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled; the partial download was deleted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::GatesPanel</name>
    <message>
        <source>Layer %1</source>
        <extracomment>a row of the gate grid / bar label: encoder layer number</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask a question to see how much each layer and word relied on the image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean gate per layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean image share per layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Routing weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fusion gates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Learned gates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean gate value over channels: how much each word took from the image in each fusion layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Effective image share (no learned gates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model has no learned gates; shown is |c| / (|c| + |s|) per generated word and decoder layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model has no learned gates; shown is |c| / (|c| + |s|) per word and fusion layer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rows: decoder layers; columns: words of the caption.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rows: fusion layers; columns: words of the question.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean image reliance per layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rows: language-model layers; columns: words of the answer.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image reliance (no learned gates)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The language model&apos;s share of attention on the image queries rather than the text, per layer and generated word.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::GetModelsDialog</name>
    <message>
        <source>Answers questions about an image (VQA); base size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answers questions about an image (VQA); large, trained on filtered captions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describes an image (captions); base size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describes an image (captions); large</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image-text matching (search and labels); base, trained on COCO</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Image-text matching (search and labels); large, trained on COCO</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n download(s) did not finish: %1. They continue from where they stopped.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Models are kept in %1, shared with HuggingFace&apos;s own tools.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub Token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Get Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models this app can run</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repository</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What it does</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Licence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Repository:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>org/name or org/name@revision, any HuggingFace model repository</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing is downloading. Pick a model above, or type a repository id.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Revision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load the selected model now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub &amp;token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hf_…, only for gated or private models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token is kept in %1, readable only by you (HF_TOKEN, when set, comes first).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Discard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::HeatmapControls</name>
    <message>
        <source>Layer %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean of heads</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Head %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole answer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole caption</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole question</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Heatmap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay where the model looked (Ctrl+H)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attention rollout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gradient-weighted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer attention: one fusion layer&apos;s cross-attention. All layers: their mean. Rollout: carried through the text self-attention. Gradient-weighted: the parts that raised this answer&apos;s probability.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Word</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colours</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opacity</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::HistoryPanel</name>
    <message numerus="yes">
        <source>%1 · %n image(s)</source>
        <extracomment>History panel, under a session&apos;s title: date, number of images and of answers</extracomment>
        <translation>
            <numerusform>%1 · %n image</numerusform>
            <numerusform>%1 · %n images</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> · %n answer(s)</source>
        <translation>
            <numerusform> · %n answer</numerusform>
            <numerusform> · %n answers</numerusform>
        </translation>
    </message>
    <message>
        <source>The history is not available.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sessions appear here once you open an image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No session has a question or answer with “%1”.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rename Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name of the session:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete the session “%1”?</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Its %n answer(s) and the list of its images are removed from the history. The image files stay where they are.</source>
        <translation>
            <numerusform>Its %n answer and the list of its images are removed from the history. The image files stay where they are.</numerusform>
            <numerusform>Its %n answers and the list of its images are removed from the history. The image files stay where they are.</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search questions and answers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show this session in the window (double-click)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save this session as an HTML, Markdown, JSON or PDF report</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::ImageView</name>
    <message>
        <source>Attention %1% (uniform %2%)</source>
        <extracomment>hover read-out over the heatmap: share of the attention in that cell, and the uniform share</extracomment>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::InferenceWorker</name>
    <message>
        <source>No model is loaded. Use File &gt; Open Model Folder.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::LabelChart</name>
    <message>
        <source>  ✓%1%</source>
        <extracomment>after a label&apos;s share: the matching head&apos;s probability (✓ marks it)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bars: the label distribution by similarity. Right: the matching head&apos;s probability that the label matches the image. Click a label to see where it matches.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::MainWindow</name>
    <message>
        <source>Model %1 loaded in %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The heatmap could not be made. %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open-AutoGLM Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 — Open-AutoGLM Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Main Toolbar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open Images…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open images or a folder of images (Ctrl+O)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Model Folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load another model folder, e.g. a BLIP checkpoint (Ctrl+Shift+O)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Paste Image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste an image or image files from the clipboard (Ctrl+V)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Save Heatmap Overlay as PNG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save overlay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the image with the heatmap as shown (Ctrl+S)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove from List</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Clear List</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Actual Size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show &amp;Heatmap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Type a Question</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>As&amp;k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Describe Image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Describe</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a caption for the current image (Ctrl+D)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Cancel Request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the running request (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Open-AutoGLM Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System Default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop images or a folder here, paste with Ctrl+V, or use File &gt; Open (Ctrl+O).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Question</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask about the image, e.g. “what colour is the circle?”</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter asks; Up and Down recall earlier questions.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not sure below</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answers with a lower confidence are marked “not sure”.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Answers to the current image appear here, with their confidence. Hover over an answer to see each word&apos;s probability.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>captioning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>question answering</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2), %3 million parameters
Image %4 px, patch %5, grid %6
Fusion layers: %7; learned gates: %8; routing: %9
Confidence: %10
libtorch %11</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>shaped like each picture, about %1 × %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>yes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>calibrated (temperature %1, length exponent %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GPU %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>CPU, %n thread(s)</source>
        <translation>
            <numerusform>CPU, %n thread</numerusform>
            <numerusform>CPU, %n threads</numerusform>
        </translation>
    </message>
    <message>
        <source>Last answer %1 ms: preprocess %2 · vision %3 · fusion %4 · decode %5</source>
        <extracomment>status bar: latency of the last answer, split by stage (milliseconds)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The image was encoded once; later questions about it reuse its features.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>file not found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not a readable file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the file is too large (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not an image</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>too large (%1 × %2 pixels; the limit is %3 megapixels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the image could not be decoded (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: no images in this folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not added: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) not added: %1</source>
        <translation>
            <numerusform>%n file not added: %1</numerusform>
            <numerusform>%n files not added: %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> (and %n more)</source>
        <translation>
            <numerusform> (and %n more)</numerusform>
            <numerusform> (and %n more)</numerusform>
        </translation>
    </message>
    <message>
        <source>%1: the image could not be decoded (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only local files can be opened: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The pasted image could not be read.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No temporary folder for pasted images.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The pasted image could not be stored.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no image or image file to add.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Images (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No recent files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading model from %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No default model was found. Choose a model folder.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model: %1, %2 million parameters, on %3. libtorch %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About Open-AutoGLM Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Open-AutoGLM Studio %1&lt;/h3&gt;&lt;p&gt;Ask questions about images with a local vision-language model, and see why it answered as it did: confidence, attention heatmaps and fusion gates.&lt;/p&gt;&lt;p&gt;%2&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open an image first: drop one on the window, paste it, or use File &gt; Open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type a question first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model is loaded. Use File &gt; Open Model Folder to choose one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computing the heatmap…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>There is no image to save.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 could not be written.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Heatmap Overlay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model folder %1 could not be loaded; the previous model stays in use.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model could be loaded from %1. Use File &gt; Open Model Folder to choose one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;New Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start a new session; the current one stays in the history (Ctrl+N)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export Session…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save this session as an HTML, Markdown, JSON or PDF report (Ctrl+Shift+E)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>History</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was moved or deleted, so it cannot be asked about. Open it again from its new place.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This answer comes from the history: it keeps the heatmap it was shown with. Ask again to try other heatmaps.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <extracomment>a thumbnail&apos;s caption when the image file was moved or deleted</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Not found: the file was moved or deleted. Its answers are kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The history in %1 could not be opened, so this session will not be saved. %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The session could not be loaded. %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The history could not be saved. %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was moved or deleted.

Its answers from this session are listed with the questions. Open the file from its new place to ask more.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The history is not available, so there is nothing to export.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This session is empty: open an image and ask about it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exported the session to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HTML report (*.html)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON data (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export Session</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search and Labels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load a model to search the images.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model has no alignment heads, so it cannot search images by text or label them. The built-in model has them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add some images first: drop them on the window or use File &gt; Open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type at least two labels, separated by commas.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <extracomment>a thumbnail&apos;s caption after a search: the match score, then the file name</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match with “%1”: similarity %2, %3% of the probability over these images</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) ordered by how well they match “%1”.</source>
        <translation>
            <numerusform>%n image ordered by how well they match “%1”.</numerusform>
            <numerusform>%n images ordered by how well they match “%1”.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) labelled; select an image to see its labels.</source>
        <translation>
            <numerusform>%n image labelled; select an image to see its labels.</numerusform>
            <numerusform>%n images labelled; select an image to see its labels.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) could not be read:</source>
        <translation>
            <numerusform>%n image could not be read:</numerusform>
            <numerusform>%n images could not be read:</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Get Models…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download models from the HuggingFace Hub and open them</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The heatmap shows where “%1” matches this image: the matching head gives %2%, similarity %3.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model matches text with images: type a text to see where it matches</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model answers no questions; Match shows how well and where the text matches the image (Search and Labels has more)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>image-text matching</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1% · %2</source>
        <extracomment>a thumbnail&apos;s caption after a search re-ranked by a matching head: its probability, then the file name</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match with “%1”: the matching head gives %2%; similarity %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>The best %n were re-ranked by the matching head; select one to see where the text matches.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Reading the Panels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading the panels</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Answers&lt;/h3&gt;&lt;p&gt;Each answer comes with its confidence: calibrated where the model folder has a calibration file, else the answer&apos;s own probability (marked “uncalibrated”). Hover over an answer for each word&apos;s probability and its alternatives.&lt;/p&gt;&lt;h3&gt;Heatmap&lt;/h3&gt;&lt;p&gt;Where the model looked. &lt;i&gt;All layers&lt;/i&gt; and &lt;i&gt;Layer&lt;/i&gt; average the cross-attention of its fusion layers over the image patches; &lt;i&gt;Rollout&lt;/i&gt; carries it through the text&apos;s self-attention; &lt;i&gt;Grad-weighted&lt;/i&gt; weights each map by the gradient of the answer&apos;s probability. &lt;i&gt;Word&lt;/i&gt; shows one word&apos;s map. For BLIP-2 the fusion layers are the Q-Former&apos;s cross-attention layers: each query&apos;s map is weighted by how much the answer&apos;s words attended to that query in the language model.&lt;/p&gt;&lt;h3&gt;Fusion gates&lt;/h3&gt;&lt;p&gt;How much each layer and word took from the image: the learned gates of our own models, or for BLIP the image&apos;s share |c| / (|c| + |s|) of each layer&apos;s update. BLIP-2 has no gates: its panel shows &lt;i&gt;image reliance&lt;/i&gt;, the share of the language model&apos;s attention that went to the 32 image queries rather than to the text, per layer and answer word.&lt;/p&gt;&lt;h3&gt;Search and labels&lt;/h3&gt;&lt;p&gt;Images are ranked by the similarity of their vectors with the text&apos;s. A matching model (BLIP ITM) re-ranks the best ones by its matching head, the probability that image and text match, and its heatmap shows where the text matches.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::MessageBar</name>
    <message>
        <source>Close</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ui::SettingsDialog</name>
    <message>
        <source>Model Folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model folder:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The embedded default model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (GPU if available)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU threads:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Beams:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maximum answer length:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (float32 on the CPU, 16-bit on a GPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>bfloat16 halves the memory the weights take; float16 needs a CUDA GPU.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model&apos;s default</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A different model folder, device, precision or thread count reloads the model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub Token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hub token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hf_…, only for gated or private models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kept in %1, readable only by you; HF_TOKEN, when set, comes first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re-rank search results:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>best </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> images</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>With an image-text matching model (BLIP ITM), its matching head re-scores this many of the best search results; each costs about one more pass over the image.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Beam search width for questions; 1 is greedy decoding. Descriptions use greedy decoding, as autoglm describe does.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
