<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ErrorText</name>
    <message>
        <source>The file could not be read</source>
        <translation>无法读取文件</translation>
    </message>
    <message>
        <source>The model&apos;s weight file is damaged</source>
        <translation>模型的权重文件已损坏</translation>
    </message>
    <message>
        <source>The model&apos;s configuration is not valid</source>
        <translation>模型配置无效</translation>
    </message>
    <message>
        <source>The model&apos;s vocabulary is missing or damaged</source>
        <translation>模型词表缺失或已损坏</translation>
    </message>
    <message>
        <source>This file is not an image that can be opened</source>
        <translation>此文件不是可以打开的图像</translation>
    </message>
    <message>
        <source>This image is too large</source>
        <translation>此图像太大</translation>
    </message>
    <message>
        <source>The question cannot be asked</source>
        <translation>无法提出该问题</translation>
    </message>
    <message>
        <source>The request is not valid</source>
        <translation>请求无效</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>The compute device is not available</source>
        <translation>计算设备不可用</translation>
    </message>
    <message>
        <source>Internal error</source>
        <translation>内部错误</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <extracomment>%1 is a translated summary, %2 the technical detail (English)</extracomment>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Out of memory</source>
        <translation>内存不足</translation>
    </message>
    <message>
        <source>Unexpected error: %1</source>
        <translation>意外错误：%1</translation>
    </message>
    <message>
        <source>Reading the configuration</source>
        <translation>正在读取配置</translation>
    </message>
    <message>
        <source>Reading the vocabulary</source>
        <translation>正在读取词表</translation>
    </message>
    <message>
        <source>Building the model</source>
        <translation>正在构建模型</translation>
    </message>
    <message>
        <source>Reading the weights</source>
        <translation>正在读取权重</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Out of GPU memory: running on the CPU</source>
        <translation>GPU 显存不足：改为在 CPU 上运行</translation>
    </message>
    <message>
        <source>The weights file holds more than tensors and was refused: no code from a model file is ever run</source>
        <translation>权重文件中含有张量以外的内容，已被拒绝：模型文件中的代码永远不会被执行</translation>
    </message>
    <message>
        <source>The model&apos;s weights are damaged or do not match its configuration</source>
        <translation>模型权重已损坏或与其配置不符</translation>
    </message>
    <message>
        <source>The model hub could not be reached</source>
        <translation>无法连接到模型中心</translation>
    </message>
    <message>
        <source>The model was not found on the hub</source>
        <translation>在模型中心找不到该模型</translation>
    </message>
    <message>
        <source>The model needs an access token</source>
        <translation>该模型需要访问令牌</translation>
    </message>
    <message>
        <source>Offline, and the model is not on this computer</source>
        <translation>处于离线状态，且此计算机上没有该模型</translation>
    </message>
    <message>
        <source>A downloaded file was damaged and has been deleted</source>
        <translation>下载的文件已损坏，已被删除</translation>
    </message>
    <message>
        <source>This app cannot run this kind of model</source>
        <translation>本应用无法运行这类模型</translation>
    </message>
    <message>
        <source>Measuring the best thread count</source>
        <translation>正在测定最佳线程数</translation>
    </message>
    <message>
        <source>The model does not fit in the free memory in float32, so it runs in bfloat16 (answers may differ slightly)</source>
        <translation>以 float32 加载时模型超出可用内存，因此改用 bfloat16 运行（答案可能略有不同）</translation>
    </message>
</context>
<context>
    <name>SessionExport</name>
    <message>
        <source>Layer attention</source>
        <translation>单层注意力</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>所有层</translation>
    </message>
    <message>
        <source>Attention rollout</source>
        <translation>注意力传播 (rollout)</translation>
    </message>
    <message>
        <source>Gradient-weighted</source>
        <translation>梯度加权</translation>
    </message>
    <message>
        <source>Session</source>
        <translation>会话</translation>
    </message>
    <message>
        <source>%1 ms (preprocess %2, vision %3, fusion %4, decode %5)</source>
        <translation>%1 毫秒（预处理 %2，视觉 %3，融合 %4，解码 %5）</translation>
    </message>
    <message>
        <source>beams %1</source>
        <translation>束宽 %1</translation>
    </message>
    <message>
        <source>at most %1 tokens</source>
        <translation>最多 %1 个词元</translation>
    </message>
    <message>
        <source>layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>head %1</source>
        <translation>第 %1 个注意力头</translation>
    </message>
    <message>
        <source>word “%1”</source>
        <translation>词“%1”</translation>
    </message>
    <message>
        <source>Caption</source>
        <translation>图像描述</translation>
    </message>
    <message>
        <source>Caption (prompt “%1”)</source>
        <translation>图像描述（提示“%1”）</translation>
    </message>
    <message>
        <source>not sure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation>未校准</translation>
    </message>
    <message numerus="yes">
        <source>Open-AutoGLM Studio session of %1, last used %2; %n image(s)</source>
        <translation>
            <numerusform>Open-AutoGLM Studio 会话，创建于 %1，最后使用于 %2；%n 张图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n answer(s). Exported %1.</source>
        <translation>
            <numerusform>，%n 个回答。导出于 %1。</numerusform>
        </translation>
    </message>
    <message>
        <source>Image %1: %2</source>
        <translation>图像 %1：%2</translation>
    </message>
    <message>
        <source>The file was moved or deleted; the picture below is the thumbnail kept in the history.</source>
        <translation>该文件已被移动或删除；下图是历史记录中保存的缩略图。</translation>
    </message>
    <message>
        <source>(no answer)</source>
        <translation>（无回答）</translation>
    </message>
    <message>
        <source>confidence %1</source>
        <translation>置信度 %1</translation>
    </message>
    <message>
        <source>Other candidates: %1</source>
        <translation>其他候选：%1</translation>
    </message>
    <message>
        <source>Token probabilities: %1</source>
        <translation>词元概率：%1</translation>
    </message>
    <message>
        <source>heatmap</source>
        <translation>热力图</translation>
    </message>
    <message>
        <source>Heatmap: %1</source>
        <translation>热力图：%1</translation>
    </message>
    <message>
        <source>gates</source>
        <translation>门控</translation>
    </message>
    <message>
        <source>Fusion gates (learned)</source>
        <translation>融合门控（学习得到）</translation>
    </message>
    <message>
        <source>Effective image share (no learned gates)</source>
        <translation>有效图像占比（无学习门控）</translation>
    </message>
    <message>
        <source>Model %1</source>
        <translation>模型 %1</translation>
    </message>
    <message>
        <source>No questions were asked about this image.</source>
        <translation>没有针对此图像的提问。</translation>
    </message>
    <message>
        <source>%1 could not be written: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>The folder %1 could not be created.</source>
        <translation>无法创建文件夹 %1。</translation>
    </message>
    <message>
        <source>%1 could not be written.</source>
        <translation>无法写入 %1。</translation>
    </message>
    <message>
        <source>Choose a file ending in .html, .md, .json or .pdf.</source>
        <translation>请选择以 .html、.md、.json 或 .pdf 结尾的文件名。</translation>
    </message>
    <message>
        <source>Image reliance of the language model</source>
        <translation>语言模型对图像的依赖</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>No model was found. Use File &gt; Open Model Folder to choose one (the default model or a BLIP folder).</source>
        <translation>未找到模型。请使用“文件 &gt; 打开模型文件夹”选择一个（默认模型或 BLIP 文件夹）。</translation>
    </message>
</context>
<context>
    <name>ui::AlignPanel</name>
    <message>
        <source>Type at least two labels, separated by commas.</source>
        <translation>请至少输入两个标签，用逗号分隔。</translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation>%1 / %2 张图像</translation>
    </message>
    <message>
        <source>Search the images by text</source>
        <translation>用文字搜索图像</translation>
    </message>
    <message>
        <source>e.g. a red star left of a circle</source>
        <translation>例如 a red star left of a circle</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Put the images back in the order they were added</source>
        <translation>按添加时的顺序恢复图像</translation>
    </message>
    <message>
        <source>Zero-shot labels</source>
        <translation>零样本标签</translation>
    </message>
    <message>
        <source>e.g. a red circle, a blue square, a green star</source>
        <translation>例如 a red circle, a blue square, a green star</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>打标签</translation>
    </message>
    <message>
        <source>Score every image against these labels</source>
        <translation>用这些标签为每张图像打分</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Labels of this image</source>
        <translation>此图像的标签</translation>
    </message>
</context>
<context>
    <name>ui::AnswerDelegate</name>
    <message>
        <source>Describe the image</source>
        <translation>描述图像</translation>
    </message>
    <message>
        <source>Describe: %1</source>
        <translation>描述：%1</translation>
    </message>
    <message>
        <source>Describing…</source>
        <translation>正在描述…</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考…</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>not sure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <source>(empty answer)</source>
        <translation>（空回答）</translation>
    </message>
    <message>
        <source>Also: %1</source>
        <translation>其他候选：%1</translation>
    </message>
</context>
<context>
    <name>ui::AnswerList</name>
    <message>
        <source>Token probabilities</source>
        <translation>各词元概率</translation>
    </message>
    <message>
        <source>Confidence %1 (sequence score %2, heuristic %3)</source>
        <translation>置信度 %1（序列得分 %2，启发式 %3）</translation>
    </message>
    <message>
        <source>This model has no calibration; the confidence is not calibrated.</source>
        <translation>此模型没有校准数据，置信度未经校准。</translation>
    </message>
</context>
<context>
    <name>ui::DownloadRow</name>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Load this model now</source>
        <translation>立即加载此模型</translation>
    </message>
    <message>
        <source>Remove from List</source>
        <translation>从列表中移除</translation>
    </message>
    <message>
        <source>Waiting…</source>
        <translation>等待中…</translation>
    </message>
    <message>
        <source>Asking the Hub for the file list…</source>
        <translation>正在向模型中心获取文件列表…</translation>
    </message>
    <message>
        <source>%1 of %2 · %3/s · %4 left</source>
        <extracomment>%1 and %2 are sizes, %3 a rate (size per second), %4 the time left (m:ss)</extracomment>
        <translation>%1 / %2 · %3/秒 · 剩余 %4</translation>
    </message>
    <message>
        <source> · resumed</source>
        <translation> · 已续传</translation>
    </message>
    <message>
        <source>Paused at %1 of %2</source>
        <translation>已暂停于 %1 / %2</translation>
    </message>
    <message>
        <source>Cancelled; the partial download was deleted</source>
        <translation>已取消；未完成的下载已删除</translation>
    </message>
    <message>
        <source>Ready: %1</source>
        <translation>已就绪：%1</translation>
    </message>
</context>
<context>
    <name>ui::GatesPanel</name>
    <message>
        <source>Layer %1</source>
        <extracomment>a row of the gate grid / bar label: encoder layer number</extracomment>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>Ask a question to see how much each layer and word relied on the image.</source>
        <translation>提出问题后，可以看到每一层、每个词在多大程度上依赖图像。</translation>
    </message>
    <message>
        <source>Mean gate per layer</source>
        <translation>各层平均门控值</translation>
    </message>
    <message>
        <source>Mean image share per layer</source>
        <translation>各层平均图像占比</translation>
    </message>
    <message>
        <source>Routing weights</source>
        <translation>路由权重</translation>
    </message>
    <message>
        <source>Fusion gates</source>
        <translation>融合门控</translation>
    </message>
    <message>
        <source>Learned gates</source>
        <translation>学习门控</translation>
    </message>
    <message>
        <source>Mean gate value over channels: how much each word took from the image in each fusion layer.</source>
        <translation>各通道的平均门控值：每个词在每个融合层中从图像获取了多少信息。</translation>
    </message>
    <message>
        <source>Effective image share (no learned gates)</source>
        <translation>有效图像占比（无学习门控）</translation>
    </message>
    <message>
        <source>This model has no learned gates; shown is |c| / (|c| + |s|) per generated word and decoder layer.</source>
        <translation>此模型没有学习门控；显示的是每个生成词和每个解码层的 |c| / (|c| + |s|)。</translation>
    </message>
    <message>
        <source>This model has no learned gates; shown is |c| / (|c| + |s|) per word and fusion layer.</source>
        <translation>此模型没有学习门控；显示的是每个词和每个融合层的 |c| / (|c| + |s|)。</translation>
    </message>
    <message>
        <source>Rows: decoder layers; columns: words of the caption.</source>
        <translation>行：解码层；列：描述中的词。</translation>
    </message>
    <message>
        <source>Rows: fusion layers; columns: words of the question.</source>
        <translation>行：融合层；列：问题中的词。</translation>
    </message>
    <message>
        <source>Mean image reliance per layer</source>
        <translation>各层平均图像依赖度</translation>
    </message>
    <message>
        <source>Rows: language-model layers; columns: words of the answer.</source>
        <translation>行：语言模型层；列：答案中的词。</translation>
    </message>
    <message>
        <source>Image reliance (no learned gates)</source>
        <translation>图像依赖度（无学习门控）</translation>
    </message>
    <message>
        <source>The language model&apos;s share of attention on the image queries rather than the text, per layer and generated word.</source>
        <translation>语言模型在每一层、每个生成词上分配给图像查询（而非文本）的注意力比例。</translation>
    </message>
</context>
<context>
    <name>ui::GetModelsDialog</name>
    <message>
        <source>Answers questions about an image (VQA); base size</source>
        <translation>回答关于图像的问题（VQA）；基础版</translation>
    </message>
    <message>
        <source>Answers questions about an image (VQA); large, trained on filtered captions</source>
        <translation>回答关于图像的问题（VQA）；大型版，以过滤后的描述训练</translation>
    </message>
    <message>
        <source>Describes an image (captions); base size</source>
        <translation>描述图像（图像描述）；基础版</translation>
    </message>
    <message>
        <source>Describes an image (captions); large</source>
        <translation>描述图像（图像描述）；大型版</translation>
    </message>
    <message>
        <source>Image-text matching (search and labels); base, trained on COCO</source>
        <translation>图文匹配（搜索和标签）；基础版，以 COCO 训练</translation>
    </message>
    <message>
        <source>Image-text matching (search and labels); large, trained on COCO</source>
        <translation>图文匹配（搜索和标签）；大型版，以 COCO 训练</translation>
    </message>
    <message numerus="yes">
        <source>%n download(s) did not finish: %1. They continue from where they stopped.</source>
        <translation>
            <numerusform>有 %n 个下载未完成：%1。它们会从中断处继续。</numerusform>
        </translation>
    </message>
    <message>
        <source>Models are kept in %1, shared with HuggingFace&apos;s own tools.</source>
        <translation>模型保存在 %1，与 HuggingFace 自己的工具共用。</translation>
    </message>
    <message>
        <source>Hub Token</source>
        <translation>模型中心令牌</translation>
    </message>
    <message>
        <source>Get Models</source>
        <translation>获取模型</translation>
    </message>
    <message>
        <source>Models this app can run</source>
        <translation>本应用可运行的模型</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>What it does</source>
        <translation>用途</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载大小</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>&amp;Repository:</source>
        <translation>仓库(&amp;R)：</translation>
    </message>
    <message>
        <source>org/name or org/name@revision, any HuggingFace model repository</source>
        <translation>org/name 或 org/name@revision，任意 HuggingFace 模型仓库</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Nothing is downloading. Pick a model above, or type a repository id.</source>
        <translation>没有正在进行的下载。请在上方选择模型，或输入仓库 ID。</translation>
    </message>
    <message>
        <source>On this computer</source>
        <translation>此计算机上的模型</translation>
    </message>
    <message>
        <source>Revision</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>&amp;Open</source>
        <translation>打开(&amp;O)</translation>
    </message>
    <message>
        <source>Load the selected model now</source>
        <translation>立即加载所选模型</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Hub &amp;token:</source>
        <translation>模型中心令牌(&amp;T)：</translation>
    </message>
    <message>
        <source>hf_…, only for gated or private models</source>
        <translation>hf_…，仅受限或私有模型需要</translation>
    </message>
    <message>
        <source>Save Token</source>
        <translation>保存令牌</translation>
    </message>
    <message>
        <source>The token is kept in %1, readable only by you (HF_TOKEN, when set, comes first).</source>
        <translation>令牌保存在 %1，仅您本人可读（若设置了 HF_TOKEN，则优先使用它）。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>丢弃</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ui::HeatmapControls</name>
    <message>
        <source>Layer %1</source>
        <translation>第 %1 层</translation>
    </message>
    <message>
        <source>Mean of heads</source>
        <translation>各头平均</translation>
    </message>
    <message>
        <source>Head %1</source>
        <translation>第 %1 个头</translation>
    </message>
    <message>
        <source>Whole answer</source>
        <translation>整个回答</translation>
    </message>
    <message>
        <source>Whole caption</source>
        <translation>整段描述</translation>
    </message>
    <message>
        <source>Whole question</source>
        <translation>整个问题</translation>
    </message>
    <message>
        <source>Heatmap</source>
        <translation>热力图</translation>
    </message>
    <message>
        <source>Overlay where the model looked (Ctrl+H)</source>
        <translation>叠加显示模型关注的位置 (Ctrl+H)</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Layer attention</source>
        <translation>单层注意力</translation>
    </message>
    <message>
        <source>All layers</source>
        <translation>所有层</translation>
    </message>
    <message>
        <source>Attention rollout</source>
        <translation>注意力传播 (rollout)</translation>
    </message>
    <message>
        <source>Gradient-weighted</source>
        <translation>梯度加权</translation>
    </message>
    <message>
        <source>Layer attention: one fusion layer&apos;s cross-attention. All layers: their mean. Rollout: carried through the text self-attention. Gradient-weighted: the parts that raised this answer&apos;s probability.</source>
        <translation>单层注意力：一个融合层的交叉注意力。所有层：各层的平均。传播：沿文本自注意力传递。梯度加权：提高该回答概率的区域。</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Head</source>
        <translation>注意力头</translation>
    </message>
    <message>
        <source>Word</source>
        <translation>词</translation>
    </message>
    <message>
        <source>Colours</source>
        <translation>配色</translation>
    </message>
    <message>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
</context>
<context>
    <name>ui::HistoryPanel</name>
    <message numerus="yes">
        <source>%1 · %n image(s)</source>
        <extracomment>History panel, under a session&apos;s title: date, number of images and of answers</extracomment>
        <translation>
            <numerusform>%1 · %n 张图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> · %n answer(s)</source>
        <translation>
            <numerusform> · %n 个回答</numerusform>
        </translation>
    </message>
    <message>
        <source>The history is not available.</source>
        <translation>历史记录不可用。</translation>
    </message>
    <message>
        <source>Sessions appear here once you open an image.</source>
        <translation>打开图像后，会话会显示在这里。</translation>
    </message>
    <message>
        <source>No session has a question or answer with “%1”.</source>
        <translation>没有会话的问题或回答包含“%1”。</translation>
    </message>
    <message>
        <source>Rename Session</source>
        <translation>重命名会话</translation>
    </message>
    <message>
        <source>Name of the session:</source>
        <translation>会话名称：</translation>
    </message>
    <message>
        <source>Delete Session</source>
        <translation>删除会话</translation>
    </message>
    <message>
        <source>Delete the session “%1”?</source>
        <translation>删除会话“%1”？</translation>
    </message>
    <message numerus="yes">
        <source>Its %n answer(s) and the list of its images are removed from the history. The image files stay where they are.</source>
        <translation>
            <numerusform>它的 %n 个回答和图像列表将从历史记录中移除。图像文件本身保持不变。</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>Search questions and answers</source>
        <translation>搜索问题和回答</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Show this session in the window (double-click)</source>
        <translation>在窗口中显示此会话（双击）</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Save this session as an HTML, Markdown, JSON or PDF report</source>
        <translation>将此会话保存为 HTML、Markdown、JSON 或 PDF 报告</translation>
    </message>
</context>
<context>
    <name>ui::ImageView</name>
    <message>
        <source>Attention %1% (uniform %2%)</source>
        <extracomment>hover read-out over the heatmap: share of the attention in that cell, and the uniform share</extracomment>
        <translation>注意力 %1%（均匀分布为 %2%）</translation>
    </message>
</context>
<context>
    <name>ui::InferenceWorker</name>
    <message>
        <source>No model is loaded. Use File &gt; Open Model Folder.</source>
        <translation>未加载模型。请使用“文件 &gt; 打开模型文件夹”。</translation>
    </message>
</context>
<context>
    <name>ui::LabelChart</name>
    <message>
        <source>  ✓%1%</source>
        <extracomment>after a label&apos;s share: the matching head&apos;s probability (✓ marks it)</extracomment>
        <translation>  ✓%1%</translation>
    </message>
    <message>
        <source>Bars: the label distribution by similarity. Right: the matching head&apos;s probability that the label matches the image. Click a label to see where it matches.</source>
        <translation>条形：按相似度得到的标签分布。右侧：匹配头给出的该标签与图像匹配的概率。点击标签即可查看它匹配的位置。</translation>
    </message>
</context>
<context>
    <name>ui::MainWindow</name>
    <message>
        <source>Model %1 loaded in %2 s</source>
        <translation>模型 %1 已加载，用时 %2 秒</translation>
    </message>
    <message>
        <source>The heatmap could not be made. %1</source>
        <translation>无法生成热力图。%1</translation>
    </message>
    <message>
        <source>Open-AutoGLM Studio</source>
        <translation>Open-AutoGLM Studio</translation>
    </message>
    <message>
        <source>%1 — Open-AutoGLM Studio</source>
        <translation>%1 — Open-AutoGLM Studio</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Ask</source>
        <translation>提问(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main Toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>&amp;Open Images…</source>
        <translation>打开图像(&amp;O)…</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <source>Open images or a folder of images (Ctrl+O)</source>
        <translation>打开图像或图像文件夹 (Ctrl+O)</translation>
    </message>
    <message>
        <source>Open &amp;Model Folder…</source>
        <translation>打开模型文件夹(&amp;M)…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Load another model folder, e.g. a BLIP checkpoint (Ctrl+Shift+O)</source>
        <translation>加载其他模型文件夹，例如 BLIP 检查点 (Ctrl+Shift+O)</translation>
    </message>
    <message>
        <source>&amp;Paste Image</source>
        <translation>粘贴图像(&amp;P)</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <source>Paste an image or image files from the clipboard (Ctrl+V)</source>
        <translation>从剪贴板粘贴图像或图像文件 (Ctrl+V)</translation>
    </message>
    <message>
        <source>&amp;Save Heatmap Overlay as PNG…</source>
        <translation>将热力图叠加保存为 PNG(&amp;S)…</translation>
    </message>
    <message>
        <source>Save overlay</source>
        <translation>保存叠加图</translation>
    </message>
    <message>
        <source>Save the image with the heatmap as shown (Ctrl+S)</source>
        <translation>按当前显示保存带热力图的图像 (Ctrl+S)</translation>
    </message>
    <message>
        <source>Remove from List</source>
        <translation>从列表中移除</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>Clear List</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation>适合窗口(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Actual Size</source>
        <translation>实际大小(&amp;A)</translation>
    </message>
    <message>
        <source>Show &amp;Heatmap</source>
        <translation>显示热力图(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Type a Question</source>
        <translation>输入问题(&amp;T)</translation>
    </message>
    <message>
        <source>As&amp;k</source>
        <translation>提问(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;Describe Image</source>
        <translation>描述图像(&amp;D)</translation>
    </message>
    <message>
        <source>Describe</source>
        <translation>描述</translation>
    </message>
    <message>
        <source>Write a caption for the current image (Ctrl+D)</source>
        <translation>为当前图像生成描述 (Ctrl+D)</translation>
    </message>
    <message>
        <source>&amp;Cancel Request</source>
        <translation>取消请求(&amp;C)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the running request (Esc)</source>
        <translation>停止正在运行的请求 (Esc)</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>首选项(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;About Open-AutoGLM Studio</source>
        <translation>关于 Open-AutoGLM Studio(&amp;A)</translation>
    </message>
    <message>
        <source>System Default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Drop images or a folder here, paste with Ctrl+V, or use File &gt; Open (Ctrl+O).</source>
        <translation>将图像或文件夹拖放到此处，用 Ctrl+V 粘贴，或使用“文件 &gt; 打开” (Ctrl+O)。</translation>
    </message>
    <message>
        <source>Question</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Ask about the image, e.g. “what colour is the circle?”</source>
        <translation>就图像提问，例如“what colour is the circle?”</translation>
    </message>
    <message>
        <source>Enter asks; Up and Down recall earlier questions.</source>
        <translation>按 Enter 提问；按上下方向键调出之前的问题。</translation>
    </message>
    <message>
        <source>Ask</source>
        <translation>提问</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>回答</translation>
    </message>
    <message>
        <source>Not sure below</source>
        <translation>低于此值标为不确定</translation>
    </message>
    <message>
        <source>Answers with a lower confidence are marked “not sure”.</source>
        <translation>置信度低于此值的回答标为“不确定”。</translation>
    </message>
    <message>
        <source>Answers to the current image appear here, with their confidence. Hover over an answer to see each word&apos;s probability.</source>
        <translation>当前图像的回答及其置信度显示在这里。将鼠标悬停在回答上可查看每个词的概率。</translation>
    </message>
    <message>
        <source>Zoom</source>
        <translation>缩放</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>无模型</translation>
    </message>
    <message>
        <source>captioning</source>
        <translation>图像描述</translation>
    </message>
    <message>
        <source>question answering</source>
        <translation>视觉问答</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>模型：%1</translation>
    </message>
    <message>
        <source>%1 (%2), %3 million parameters
Image %4 px, patch %5, grid %6
Fusion layers: %7; learned gates: %8; routing: %9
Confidence: %10
libtorch %11</source>
        <translation>%1（%2），%3 百万参数
图像 %4 像素，图块 %5，网格 %6
融合层：%7；学习门控：%8；路由：%9
置信度：%10
libtorch %11</translation>
    </message>
    <message>
        <source>shaped like each picture, about %1 × %1</source>
        <translation>随每张图片的形状，约 %1 × %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>calibrated (temperature %1, length exponent %2)</source>
        <translation>已校准（温度 %1，长度指数 %2）</translation>
    </message>
    <message>
        <source>uncalibrated</source>
        <translation>未校准</translation>
    </message>
    <message>
        <source>GPU %1 (%2)</source>
        <translation>GPU %1（%2）</translation>
    </message>
    <message numerus="yes">
        <source>CPU, %n thread(s)</source>
        <translation>
            <numerusform>CPU，%n 个线程</numerusform>
        </translation>
    </message>
    <message>
        <source>Last answer %1 ms: preprocess %2 · vision %3 · fusion %4 · decode %5</source>
        <extracomment>status bar: latency of the last answer, split by stage (milliseconds)</extracomment>
        <translation>上次回答 %1 毫秒：预处理 %2 · 视觉 %3 · 融合 %4 · 解码 %5</translation>
    </message>
    <message>
        <source>The image was encoded once; later questions about it reuse its features.</source>
        <translation>图像只编码一次；之后对它的提问会复用其特征。</translation>
    </message>
    <message>
        <source>file not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <source>not a readable file</source>
        <translation>不是可读取的文件</translation>
    </message>
    <message>
        <source>the file is too large (%1)</source>
        <translation>文件太大（%1）</translation>
    </message>
    <message>
        <source>not an image</source>
        <translation>不是图像</translation>
    </message>
    <message>
        <source>too large (%1 × %2 pixels; the limit is %3 megapixels)</source>
        <translation>太大（%1 × %2 像素；上限为 %3 百万像素）</translation>
    </message>
    <message>
        <source>the image could not be decoded (%1)</source>
        <translation>无法解码图像（%1）</translation>
    </message>
    <message>
        <source>%1: no images in this folder</source>
        <translation>%1：此文件夹中没有图像</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Not added: %1</source>
        <translation>未添加：%1</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) not added: %1</source>
        <translation>
            <numerusform>%n 个文件未添加：%1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> (and %n more)</source>
        <translation>
            <numerusform>（另有 %n 个）</numerusform>
        </translation>
    </message>
    <message>
        <source>%1: the image could not be decoded (%2)</source>
        <translation>%1：无法解码图像（%2）</translation>
    </message>
    <message>
        <source>Only local files can be opened: %1</source>
        <translation>只能打开本地文件：%1</translation>
    </message>
    <message>
        <source>The pasted image could not be read.</source>
        <translation>无法读取粘贴的图像。</translation>
    </message>
    <message>
        <source>No temporary folder for pasted images.</source>
        <translation>没有用于存放粘贴图像的临时文件夹。</translation>
    </message>
    <message>
        <source>The pasted image could not be stored.</source>
        <translation>无法保存粘贴的图像。</translation>
    </message>
    <message>
        <source>There is no image or image file to add.</source>
        <translation>没有可添加的图像或图像文件。</translation>
    </message>
    <message>
        <source>Open Images</source>
        <translation>打开图像</translation>
    </message>
    <message>
        <source>Images (%1)</source>
        <translation>图像 (%1)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>No recent files</source>
        <translation>没有最近打开的文件</translation>
    </message>
    <message>
        <source>Loading model from %1…</source>
        <translation>正在从 %1 加载模型…</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>打开模型文件夹</translation>
    </message>
    <message>
        <source>No default model was found. Choose a model folder.</source>
        <translation>未找到默认模型。请选择一个模型文件夹。</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>Model: %1, %2 million parameters, on %3. libtorch %4.</source>
        <translation>模型：%1，%2 百万参数，运行于 %3。libtorch %4。</translation>
    </message>
    <message>
        <source>About Open-AutoGLM Studio</source>
        <translation>关于 Open-AutoGLM Studio</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Open-AutoGLM Studio %1&lt;/h3&gt;&lt;p&gt;Ask questions about images with a local vision-language model, and see why it answered as it did: confidence, attention heatmaps and fusion gates.&lt;/p&gt;&lt;p&gt;%2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Open-AutoGLM Studio %1&lt;/h3&gt;&lt;p&gt;用本地视觉语言模型就图像提问，并了解它为何这样回答：置信度、注意力热力图和融合门控。&lt;/p&gt;&lt;p&gt;%2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Open an image first: drop one on the window, paste it, or use File &gt; Open.</source>
        <translation>请先打开图像：拖放到窗口中、粘贴，或使用“文件 &gt; 打开”。</translation>
    </message>
    <message>
        <source>Type a question first.</source>
        <translation>请先输入问题。</translation>
    </message>
    <message>
        <source>No model is loaded. Use File &gt; Open Model Folder to choose one.</source>
        <translation>未加载模型。请使用“文件 &gt; 打开模型文件夹”选择一个。</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>Computing the heatmap…</source>
        <translation>正在计算热力图…</translation>
    </message>
    <message>
        <source>There is no image to save.</source>
        <translation>没有可保存的图像。</translation>
    </message>
    <message>
        <source>%1 could not be written.</source>
        <translation>无法写入 %1。</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Save Heatmap Overlay</source>
        <translation>保存热力图叠加</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>The model folder %1 could not be loaded; the previous model stays in use.</source>
        <translation>无法加载模型文件夹 %1，继续使用之前的模型。</translation>
    </message>
    <message>
        <source>No model could be loaded from %1. Use File &gt; Open Model Folder to choose one.</source>
        <translation>无法从 %1 加载模型。请使用“文件 &gt; 打开模型文件夹”选择一个。</translation>
    </message>
    <message>
        <source>&amp;New Session</source>
        <translation>新建会话(&amp;N)</translation>
    </message>
    <message>
        <source>Start a new session; the current one stays in the history (Ctrl+N)</source>
        <translation>开始新会话；当前会话保留在历史记录中 (Ctrl+N)</translation>
    </message>
    <message>
        <source>&amp;Export Session…</source>
        <translation>导出会话(&amp;E)…</translation>
    </message>
    <message>
        <source>Save this session as an HTML, Markdown, JSON or PDF report (Ctrl+Shift+E)</source>
        <translation>将此会话保存为 HTML、Markdown、JSON 或 PDF 报告 (Ctrl+Shift+E)</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>%1 was moved or deleted, so it cannot be asked about. Open it again from its new place.</source>
        <translation>%1 已被移动或删除，无法再对其提问。请从新位置重新打开它。</translation>
    </message>
    <message>
        <source>This answer comes from the history: it keeps the heatmap it was shown with. Ask again to try other heatmaps.</source>
        <translation>此回答来自历史记录：只保留了当时显示的热力图。如需查看其他热力图，请重新提问。</translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <extracomment>a thumbnail&apos;s caption when the image file was moved or deleted</extracomment>
        <translation>%1（缺失）</translation>
    </message>
    <message>
        <source>%1
Not found: the file was moved or deleted. Its answers are kept.</source>
        <translation>%1
未找到：文件已被移动或删除。它的回答仍然保留。</translation>
    </message>
    <message>
        <source>The history in %1 could not be opened, so this session will not be saved. %2</source>
        <translation>无法打开 %1 中的历史记录，本次会话将不会被保存。%2</translation>
    </message>
    <message>
        <source>The session could not be loaded. %1</source>
        <translation>无法加载该会话。%1</translation>
    </message>
    <message>
        <source>The history could not be saved. %1</source>
        <translation>无法保存历史记录。%1</translation>
    </message>
    <message>
        <source>%1 was moved or deleted.

Its answers from this session are listed with the questions. Open the file from its new place to ask more.</source>
        <translation>%1 已被移动或删除。

本会话中关于它的回答仍列在问题旁。从新位置打开该文件即可继续提问。</translation>
    </message>
    <message>
        <source>The history is not available, so there is nothing to export.</source>
        <translation>历史记录不可用，没有可导出的内容。</translation>
    </message>
    <message>
        <source>This session is empty: open an image and ask about it first.</source>
        <translation>此会话为空：请先打开图像并提问。</translation>
    </message>
    <message>
        <source>Exported the session to %1</source>
        <translation>会话已导出到 %1</translation>
    </message>
    <message>
        <source>HTML report (*.html)</source>
        <translation>HTML 报告 (*.html)</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON data (*.json)</source>
        <translation>JSON 数据 (*.json)</translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation>PDF 文档 (*.pdf)</translation>
    </message>
    <message>
        <source>Export Session</source>
        <translation>导出会话</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Search and Labels</source>
        <translation>搜索与标签</translation>
    </message>
    <message>
        <source>Load a model to search the images.</source>
        <translation>请先加载模型再搜索图像。</translation>
    </message>
    <message>
        <source>This model has no alignment heads, so it cannot search images by text or label them. The built-in model has them.</source>
        <translation>此模型没有对齐头，无法用文字搜索图像或为其打标签。内置模型具备对齐头。</translation>
    </message>
    <message>
        <source>Add some images first: drop them on the window or use File &gt; Open.</source>
        <translation>请先添加图像：拖放到窗口中，或使用“文件 &gt; 打开”。</translation>
    </message>
    <message>
        <source>Type at least two labels, separated by commas.</source>
        <translation>请至少输入两个标签，用逗号分隔。</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <extracomment>a thumbnail&apos;s caption after a search: the match score, then the file name</extracomment>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Match with “%1”: similarity %2, %3% of the probability over these images</source>
        <translation>与“%1”的匹配：相似度 %2，在这些图像中占概率的 %3%</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) ordered by how well they match “%1”.</source>
        <translation>
            <numerusform>已按与“%1”的匹配程度排列 %n 张图像。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) labelled; select an image to see its labels.</source>
        <translation>
            <numerusform>已为 %n 张图像打标签；选择一张图像即可查看其标签。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) could not be read:</source>
        <translation>
            <numerusform>%n 张图像无法读取：</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Get Models…</source>
        <translation>获取模型(&amp;G)…</translation>
    </message>
    <message>
        <source>Download models from the HuggingFace Hub and open them</source>
        <translation>从 HuggingFace 模型中心下载并打开模型</translation>
    </message>
    <message>
        <source>The heatmap shows where “%1” matches this image: the matching head gives %2%, similarity %3.</source>
        <translation>热力图显示“%1”与这张图像匹配的位置：匹配头给出 %2%，相似度 %3。</translation>
    </message>
    <message>
        <source>This model matches text with images: type a text to see where it matches</source>
        <translation>此模型用于图文匹配：输入文字即可查看它与图像匹配的位置</translation>
    </message>
    <message>
        <source>This model answers no questions; Match shows how well and where the text matches the image (Search and Labels has more)</source>
        <translation>此模型不回答问题；“匹配”显示文字与图像的匹配程度及位置（“搜索与标签”中有更多功能）</translation>
    </message>
    <message>
        <source>Match</source>
        <translation>匹配</translation>
    </message>
    <message>
        <source>image-text matching</source>
        <translation>图文匹配</translation>
    </message>
    <message>
        <source>%1% · %2</source>
        <extracomment>a thumbnail&apos;s caption after a search re-ranked by a matching head: its probability, then the file name</extracomment>
        <translation>%1% · %2</translation>
    </message>
    <message>
        <source>Match with “%1”: the matching head gives %2%; similarity %3</source>
        <translation>与“%1”的匹配：匹配头给出 %2%；相似度 %3</translation>
    </message>
    <message numerus="yes">
        <source>The best %n were re-ranked by the matching head; select one to see where the text matches.</source>
        <translation>
            <numerusform>前 %n 张已由匹配头重新排序；选择一张即可查看文字匹配的位置。</numerusform>
        </translation>
    </message>
    <message>
        <source>&amp;Reading the Panels</source>
        <translation>阅读各面板(&amp;R)</translation>
    </message>
    <message>
        <source>Reading the panels</source>
        <translation>如何阅读各面板</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Answers&lt;/h3&gt;&lt;p&gt;Each answer comes with its confidence: calibrated where the model folder has a calibration file, else the answer&apos;s own probability (marked “uncalibrated”). Hover over an answer for each word&apos;s probability and its alternatives.&lt;/p&gt;&lt;h3&gt;Heatmap&lt;/h3&gt;&lt;p&gt;Where the model looked. &lt;i&gt;All layers&lt;/i&gt; and &lt;i&gt;Layer&lt;/i&gt; average the cross-attention of its fusion layers over the image patches; &lt;i&gt;Rollout&lt;/i&gt; carries it through the text&apos;s self-attention; &lt;i&gt;Grad-weighted&lt;/i&gt; weights each map by the gradient of the answer&apos;s probability. &lt;i&gt;Word&lt;/i&gt; shows one word&apos;s map. For BLIP-2 the fusion layers are the Q-Former&apos;s cross-attention layers: each query&apos;s map is weighted by how much the answer&apos;s words attended to that query in the language model.&lt;/p&gt;&lt;h3&gt;Fusion gates&lt;/h3&gt;&lt;p&gt;How much each layer and word took from the image: the learned gates of our own models, or for BLIP the image&apos;s share |c| / (|c| + |s|) of each layer&apos;s update. BLIP-2 has no gates: its panel shows &lt;i&gt;image reliance&lt;/i&gt;, the share of the language model&apos;s attention that went to the 32 image queries rather than to the text, per layer and answer word.&lt;/p&gt;&lt;h3&gt;Search and labels&lt;/h3&gt;&lt;p&gt;Images are ranked by the similarity of their vectors with the text&apos;s. A matching model (BLIP ITM) re-ranks the best ones by its matching head, the probability that image and text match, and its heatmap shows where the text matches.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;回答&lt;/h3&gt;&lt;p&gt;每个回答都附有置信度：模型文件夹中有校准文件时为校准后的置信度，否则为回答自身的概率（标注为“未校准”）。将鼠标悬停在回答上可查看每个词的概率及其候选词。&lt;/p&gt;&lt;h3&gt;热力图&lt;/h3&gt;&lt;p&gt;模型关注的位置。&lt;i&gt;所有层&lt;/i&gt;和&lt;i&gt;层&lt;/i&gt;对融合层在图像块上的交叉注意力取平均；&lt;i&gt;注意力展开&lt;/i&gt;将其沿文本自注意力传递；&lt;i&gt;梯度加权&lt;/i&gt;按回答概率的梯度对每张图加权。&lt;i&gt;词&lt;/i&gt;显示单个词的热力图。对于 BLIP-2，融合层是 Q-Former 的交叉注意力层：每个查询的热力图按回答中的词在语言模型里对该查询的关注程度加权。&lt;/p&gt;&lt;h3&gt;融合门控&lt;/h3&gt;&lt;p&gt;每一层、每个词从图像中获取了多少信息：我们自己模型的学习门控，或 BLIP 中每层更新里图像所占的比例 |c| / (|c| + |s|)。BLIP-2 没有门控：其面板显示&lt;i&gt;图像依赖度&lt;/i&gt;，即语言模型的注意力中分配给 32 个图像查询（而非文本）的比例，按层和回答中的词显示。&lt;/p&gt;&lt;h3&gt;搜索与标签&lt;/h3&gt;&lt;p&gt;图像按其向量与文本向量的相似度排序。图文匹配模型（BLIP ITM）用其匹配头（图像与文本匹配的概率）对最佳结果重新排序，其热力图显示文本匹配的位置。&lt;/p&gt;</translation>
    </message>
</context>
<context>
    <name>ui::MessageBar</name>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>ui::SettingsDialog</name>
    <message>
        <source>Model Folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>Model folder:</source>
        <translation>模型文件夹：</translation>
    </message>
    <message>
        <source>The embedded default model</source>
        <translation>内置默认模型</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <source>Automatic (GPU if available)</source>
        <translation>自动（如有 GPU 则使用）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation>CUDA GPU</translation>
    </message>
    <message>
        <source>CPU threads:</source>
        <translation>CPU 线程数：</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Beams:</source>
        <translation>束搜索宽度：</translation>
    </message>
    <message>
        <source>Maximum answer length:</source>
        <translation>最大回答长度：</translation>
    </message>
    <message>
        <source> tokens</source>
        <translation> 个词元</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Precision:</source>
        <translation>数值精度：</translation>
    </message>
    <message>
        <source>Automatic (float32 on the CPU, 16-bit on a GPU)</source>
        <translation>自动（CPU 上用 float32，GPU 上用 16 位）</translation>
    </message>
    <message>
        <source>bfloat16 halves the memory the weights take; float16 needs a CUDA GPU.</source>
        <translation>bfloat16 可将权重占用的内存减半；float16 需要 CUDA GPU。</translation>
    </message>
    <message>
        <source>The model&apos;s default</source>
        <translation>模型默认值</translation>
    </message>
    <message>
        <source>A different model folder, device, precision or thread count reloads the model.</source>
        <translation>更换模型文件夹、设备、数值精度或线程数会重新加载模型。</translation>
    </message>
    <message>
        <source>Hub Token</source>
        <translation>模型中心令牌</translation>
    </message>
    <message>
        <source>Hub token:</source>
        <translation>模型中心令牌：</translation>
    </message>
    <message>
        <source>hf_…, only for gated or private models</source>
        <translation>hf_…，仅受限或私有模型需要</translation>
    </message>
    <message>
        <source>Kept in %1, readable only by you; HF_TOKEN, when set, comes first.</source>
        <translation>保存在 %1，仅您本人可读；若设置了 HF_TOKEN，则优先使用它。</translation>
    </message>
    <message>
        <source>Re-rank search results:</source>
        <translation>重排搜索结果：</translation>
    </message>
    <message>
        <source>best </source>
        <translation>前 </translation>
    </message>
    <message>
        <source> images</source>
        <translation> 张图像</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>With an image-text matching model (BLIP ITM), its matching head re-scores this many of the best search results; each costs about one more pass over the image.</source>
        <translation>使用图文匹配模型（BLIP ITM）时，由其匹配头对这么多张最佳搜索结果重新打分；每张约需再处理一次图像。</translation>
    </message>
    <message>
        <source>Beam search width for questions; 1 is greedy decoding. Descriptions use greedy decoding, as autoglm describe does.</source>
        <translation>回答问题时的束搜索宽度；1 为贪心解码。描述图像时使用贪心解码，与 autoglm describe 一致。</translation>
    </message>
</context>
</TS>
