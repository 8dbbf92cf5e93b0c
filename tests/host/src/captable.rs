// SPDX-License-Identifier: GPL-2.0

//! The capability table of `Documentation/driver-api/rvfio-pci.rst`, generated from the
//! engine's own tables (lengths, permission tables and handling per capability ID), and a test
//! that fails when the document differs. `RVFIO_BLESS=1 cargo test` rewrites it.

use crate::caps::*;

const STD_NAMES: [&str; CAP_ID_MAX as usize + 1] = [
    "Standard header",
    "Power Management",
    "AGP",
    "VPD",
    "Slot ID",
    "MSI",
    "CompactPCI hot swap",
    "PCI-X",
    "HyperTransport",
    "Vendor-specific",
    "Debug port",
    "CompactPCI CRC",
    "PCI hot-plug (SHPC)",
    "Bridge subsystem vendor ID",
    "AGP 8x",
    "Secure device",
    "PCI Express",
    "MSI-X",
    "SATA",
    "Advanced Features",
    "Enhanced Allocation",
];

const EXT_NAMES: [&str; EXT_CAP_ID_MAX as usize + 1] = [
    "(ID 0)",
    "AER",
    "Virtual Channel",
    "Device Serial Number",
    "Power Budgeting",
    "Root Complex Link Declaration",
    "Root Complex Internal Link Control",
    "Root Complex Event Collector",
    "Multi-Function VC",
    "Virtual Channel (MFVC present)",
    "Root Complex Register Block",
    "Vendor-specific",
    "Config Access Correlation",
    "ACS",
    "ARI",
    "ATS",
    "SR-IOV",
    "MR-IOV",
    "Multicast",
    "Page Request",
    "Reserved for AMD",
    "Resizable BAR",
    "Dynamic Power Allocation",
    "TPH Requester",
    "Latency Tolerance Reporting",
    "Secondary PCI Express",
    "Protocol Multiplexing",
    "PASID",
    "(ID 0x1c)",
    "Downstream Port Containment",
    "L1 PM Substates",
    "Precision Time Measurement",
    "(ID 0x20)",
    "(ID 0x21)",
    "(ID 0x22)",
    "Designated Vendor-Specific",
    "VF Resizable BAR",
    "Data Link Feature",
    "Physical Layer 16 GT/s",
    "(ID 0x27)",
    "(ID 0x28)",
    "Native PCIe Enclosure Management",
    "Physical Layer 32 GT/s",
    "(ID 0x2b)",
    "(ID 0x2c)",
    "(ID 0x2d)",
    "Data Object Exchange",
    "Device 3",
    "Integrity and Data Encryption",
    "Physical Layer 64 GT/s",
];

/// What user space sees of a capability with handling `kind`.
fn treatment(kind: Kind) -> &'static str {
    match kind {
        Kind::Basic => "header",
        Kind::Pm => "power state writes trapped (zap before D3hot); PME bits virtual (read 0)",
        Kind::Vpd => "address/data virtual, served by the kernel's VPD accessors",
        Kind::Pcix => "command and ECC control writable",
        Kind::Exp => {
            "DEVCTL writable but phantom functions; FLR trapped into a reset; MPS virtual; \
             MRRS virtual, floored at MPS in hardware; DEVCTL2 writable but ARI"
        }
        Kind::Af => "FLR trapped into a reset",
        Kind::Msi => {
            "flags, address, data virtual; enable only through SET_IRQS; QSIZE clamped to \
             the vectors enabled; mask/pending writable"
        }
        Kind::Err => "header virtual; status, mask, severity, ECRC enables writable",
        Kind::Pwr => "header virtual; data select writable",
        Kind::Direct => "read-only",
        Kind::DirectRawWrite => "read and written through",
        Kind::Raw => "raw",
        Kind::Virt => "virtual",
    }
}

/// The rst table.
pub(crate) fn table() -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let len = |l: u16| match l {
        0 => "hidden".to_string(),
        VARIABLE => "variable".to_string(),
        l => l.to_string(),
    };
    for id in 1..=CAP_ID_MAX {
        let l = u16::from(CAP_LENGTH[usize::from(id)]);
        let t = if l == 0 {
            "unlinked"
        } else {
            treatment(std_kind(id))
        };
        rows.push([
            format!("{id:#04x}"),
            STD_NAMES[usize::from(id)].into(),
            len(l),
            t.into(),
        ]);
    }
    for id in 1..=EXT_CAP_ID_MAX {
        let l = EXT_CAP_LENGTH[usize::from(id)];
        let t = if l == 0 {
            "unlinked (the first in the chain leaves a header with ID 0)"
        } else {
            treatment(ext_kind(id as u8))
        };
        rows.push([
            format!("ext {id:#04x}"),
            EXT_NAMES[usize::from(id)].into(),
            len(l),
            t.into(),
        ]);
    }
    let head = ["ID", "Capability", "Length", "Treatment"];
    let w: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([head[c].len()])
                .max()
                .unwrap()
        })
        .collect();
    let rule = w
        .iter()
        .map(|&n| "=".repeat(n))
        .collect::<Vec<_>>()
        .join(" ");
    let line = |r: &[&str]| {
        let cells: Vec<String> = r.iter().zip(&w).map(|(c, &n)| format!("{c:n$}")).collect();
        cells.join(" ").trim_end().to_string()
    };
    let mut out = vec![rule.clone(), line(&head), rule.clone()];
    for r in &rows {
        out.push(line(&[&r[0], &r[1], &r[2], &r[3]]));
    }
    out.push(rule);
    out.join("\n") + "\n"
}

const DOC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../Documentation/driver-api/rvfio-pci.rst"
);
const BEGIN: &str = ".. BEGIN CAPABILITY TABLE (generated by tests/host, do not edit)\n\n";
const END: &str = "\n.. END CAPABILITY TABLE\n";

#[test]
fn documentation_table_is_current() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("{DOC} lacks the capability table markers");
    };
    let current = &doc[b + BEGIN.len()..e];
    let want = table();
    if current != want {
        if std::env::var_os("RVFIO_BLESS").is_some() {
            let new = format!(
                "{}{}{}{}",
                &doc[..b + BEGIN.len()],
                want,
                END,
                &doc[e + END.len()..]
            );
            std::fs::write(DOC, new).unwrap();
        } else {
            panic!("the capability table in {DOC} is stale: run RVFIO_BLESS=1 cargo test");
        }
    }
}
